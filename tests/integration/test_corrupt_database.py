"""A damaged SQLite file is the user's to fix: every command that opens the database says so in
one line on stderr (no traceback) and exits 1."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from sync.config import Settings
from testkit.helpers import legday_process

COMMANDS = [["today"], ["history", "--days", "7"], ["status"], ["athlete", "list"], ["tomorrow"]]


def _not_a_database(path: Path) -> None:
    path.write_bytes(random.Random(7).randbytes(64 * 1024))


def _malformed(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for i in range(4096, len(data), 7):  # the header stays valid, the pages are garbage
        data[i] = 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.long
@pytest.mark.parametrize("damage", [_not_a_database, _malformed], ids=["random-bytes", "malformed-pages"])
def test_every_command_says_one_line_about_a_corrupt_sqlite_file(
    settings: Settings, child_env: dict[str, str], damage
) -> None:
    assert legday_process("athlete", "add", "ana", "--timezone", "UTC", env=child_env).returncode == 0
    db = settings.data_dir / "legday.sqlite3"
    for extra in ("-wal", "-shm"):
        Path(f"{db}{extra}").unlink(missing_ok=True)
    damage(db)
    for command in COMMANDS:
        result = legday_process(*command, env=child_env)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 1, (command, result.stderr)
        assert len(lines) == 1 and "Traceback" not in result.stderr, (command, result.stderr)
        assert lines[0].startswith("legday: ") and str(db) in lines[0], (command, lines)
        assert "damaged" in lines[0] or "not a database" in lines[0]
