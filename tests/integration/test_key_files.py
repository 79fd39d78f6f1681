"""The key files of the embedded default (report.key signs links, secret.key encrypts Garmin
tokens): processes racing to create them on a fresh data dir all end up with the same key, and
an empty or short key file is refused with one line, never used."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sync.config import Settings
from sync.errors import ConfigError
from sync.garmin.crypto import resolve_key
from sync.links.secret import report_key
from testkit.helpers import REPO, legday_process, wait_for

# Each child imports everything first, says it is ready, then blocks opening the starting FIFO
# until the parent opens its other end: all of them create the keys at the same moment. Each
# prints both keys as it read them.
RACER = """
import os, sys
from sync.config import Settings
from sync.garmin.crypto import resolve_key
from sync.links.secret import report_key
settings = Settings()
ready, gun = sys.argv[1], sys.argv[2]
open(ready + "." + str(os.getpid()), "w").close()
os.close(os.open(gun, os.O_RDONLY))
print(report_key(settings).hex() + "|" + resolve_key(settings).get_secret_value(), flush=True)
"""

PROCESSES = 10
ROUNDS = 3


def _open_writer(fifo: Path) -> int | None:
    """The FIFO's writing end, once a reader has it open (else None: no one is waiting yet)."""
    try:
        return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:  # ENXIO: no reader yet
        return None


def _race(data_dir: Path, tmp_path: Path, round_no: int) -> list[tuple[str, str]]:
    ready = tmp_path / f"ready-{round_no}"
    gun = tmp_path / f"go-{round_no}"
    os.mkfifo(gun)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGDAY_")}
    env["LEGDAY_DATA_DIR"] = str(data_dir)
    children = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(ready), str(gun)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    writer: list[int] = []

    def gun_fired() -> bool:
        fd = _open_writer(gun)
        if fd is not None:
            writer.append(fd)
        return fd is not None

    try:
        # Every child has started and is about to wait on the starting line: then all go at once.
        # The writing end stays open until all are done: a child that opens it late goes on.
        assert wait_for(
            lambda: len(list(tmp_path.glob(f"ready-{round_no}.*"))) == PROCESSES, 120, step=0.01
        ), "a racer did not start"
        assert wait_for(gun_fired, 60, step=0.01), "no racer opened the starting FIFO"
        return [_keys_of(child) for child in children]
    finally:
        for fd in writer:
            os.close(fd)
        for child in children:  # after a failure: none is left waiting on the FIFO
            if child.poll() is None:
                child.kill()
                child.communicate()


def _keys_of(child: subprocess.Popen[str]) -> tuple[str, str]:
    """The (report key, token key) a racer printed, once it has exited successfully."""
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    report, fernet = out.strip().split("|")
    return report, fernet


def test_processes_racing_on_a_fresh_data_dir_agree_on_non_empty_keys(tmp_path: Path) -> None:
    for round_no in range(ROUNDS):
        data_dir = tmp_path / f"data-{round_no}"
        keys = _race(data_dir, tmp_path, round_no)
        reports = {k[0] for k in keys}
        fernets = {k[1] for k in keys}
        assert len(reports) == 1 and len(fernets) == 1, (round_no, reports, fernets)
        report, fernet = keys[0]
        assert len(bytes.fromhex(report)) >= 32 and len(fernet) == 44
        # What is on disk is what they all use, owner-only, and no temp file is left behind.
        assert (data_dir / "report.key").read_text().strip().encode().hex() == report
        assert (data_dir / "secret.key").read_text().strip() == fernet
        for name in ("report.key", "secret.key"):
            assert (data_dir / name).stat().st_mode & 0o777 == 0o600
        assert sorted(p.name for p in data_dir.iterdir()) == ["report.key", "secret.key"]


@pytest.mark.parametrize("content", ["", "\n", "short-key\n"])
def test_an_empty_or_short_report_key_file_is_refused(settings: Settings, content: str) -> None:
    settings.data_dir.mkdir(parents=True)
    (settings.data_dir / "report.key").write_text(content)
    with pytest.raises(ConfigError) as caught:
        report_key(settings)
    message = str(caught.value)
    assert "report.key" in message and "\n" not in message
    assert (settings.data_dir / "report.key").read_text() == content  # not silently replaced


@pytest.mark.parametrize("content", ["", "  \n", "abc"])
def test_an_empty_or_short_token_key_file_is_refused(settings: Settings, content: str) -> None:
    settings.data_dir.mkdir(parents=True)
    (settings.data_dir / "secret.key").write_text(content)
    with pytest.raises(ConfigError) as caught:
        resolve_key(settings)
    message = str(caught.value)
    assert "secret.key" in message and "\n" not in message


def test_the_cli_says_one_line_about_an_empty_key_file(settings: Settings, child_env: dict[str, str]) -> None:
    assert legday_process("athlete", "add", "ana", "--timezone", "UTC", env=child_env).returncode == 0
    (settings.data_dir / "report.key").write_text("")
    result = legday_process("report", "link", "--athlete", "ana", env=child_env)
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "report.key" in result.stderr
