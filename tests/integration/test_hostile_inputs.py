"""Inputs that once read without end, hung, or were dropped without a word (issue: prove it holds).

Each was a regression test before its fix. The commands that read devices run in a child
process under a memory limit, so a regression cannot take the machine down with it.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.athletes import add_athlete, update_athlete
from sync.config import Settings
from sync.db.models import Quarantine
from sync.db.session import session_scope
from sync.errors import ConfigError, UnsafeArchiveError
from sync.ingest.archive import ArchiveLimits, iter_fit_members, safe_extract_single_fit
from sync.ingest.folder import FoundFile, list_candidates
from testkit.helpers import RUN_FIT, SHORT_RUN_FIT, legday_process, make_zip, run_cli


def test_parse_refuses_an_endless_device_in_one_line(child_env: dict[str, str]) -> None:
    result = legday_process("parse", "/dev/zero", env=child_env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "legday: /dev/zero: not a regular file (a device, FIFO or socket): not read"
    ]


def test_parse_does_not_hang_on_a_fifo(child_env: dict[str, str], tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.fit"
    os.mkfifo(fifo)
    result = legday_process("parse", str(fifo), env=child_env, timeout=30)  # before the fix: forever
    assert result.returncode == 1 and "not a regular file" in result.stderr


def test_import_quarantines_a_device_and_imports_the_rest(
    child_env: dict[str, str], settings: Settings
) -> None:
    assert legday_process("athlete", "add", "ana", "--timezone", "UTC", env=child_env).returncode == 0
    result = legday_process("import", "/dev/zero", str(RUN_FIT), env=child_env)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "not a regular file" in result.stdout + result.stderr
    with session_scope(settings) as s:
        reasons = list(s.scalars(select(Quarantine.reason)))
    assert reasons == ["not a regular file (a device, FIFO or socket): not read"]


def test_folder_walk_reports_broken_links_and_fifos(tmp_path: Path) -> None:
    folder = tmp_path / "GARMIN" / "Activity"
    folder.mkdir(parents=True)
    shutil.copy(RUN_FIT, folder / "run.fit")
    (folder / "gone.fit").symlink_to(tmp_path / "nowhere.fit")
    os.mkfifo(folder / "pipe.fit")
    problems: list[FoundFile] = []
    assert list_candidates([tmp_path / "GARMIN"], problems) == [folder / "run.fit"]
    reasons = {Path(p.name).name: p.refused for p in problems}
    assert reasons == {
        "gone.fit": "broken link: its target is gone",
        "pipe.fit": "not a regular file (a device, FIFO or socket)",
    }


def _walk_as_someone_else(top: Path) -> dict:
    """`list_candidates(top)` in a forked child that, under root, becomes `nobody` first.

    Root reads any folder, so a closed folder only stays closed for another user; a fork (no
    exec) keeps the already-imported code, which `nobody` could not load from root's home.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: walk, report, leave without running the parent's cleanups
        status = 0
        try:
            os.close(read_end)
            if os.geteuid() == 0:
                os.setuid(65534)
            problems: list[FoundFile] = []
            found = list_candidates([top], problems)
            doc = {
                "found": [p.name for p in found],
                "problems": [[Path(p.name).name, p.refused] for p in problems],
            }
            os.write(write_end, json.dumps(doc).encode())
        except BaseException:  # noqa: BLE001 - the parent sees the exit status
            status = 1
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as fh:
        data = fh.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return json.loads(data)


def test_an_unreadable_subfolder_is_reported_not_skipped() -> None:
    top = Path(tempfile.mkdtemp(prefix="legday-unreadable-"))
    try:
        top.chmod(0o755)
        (top / "ok").mkdir(mode=0o755)
        shutil.copy(RUN_FIT, top / "ok" / "run.fit")
        (top / "ok" / "run.fit").chmod(0o644)
        (top / "locked").mkdir()
        shutil.copy(SHORT_RUN_FIT, top / "locked" / "short.fit")
        (top / "locked").chmod(0o000)
        out = _walk_as_someone_else(top)
        assert out == {
            "found": ["run.fit"],
            "problems": [["locked", "cannot read folder: Permission denied"]],
        }
    finally:
        (top / "locked").chmod(0o755)
        shutil.rmtree(top)


def _overlapping_zip() -> bytes:
    """Two central-directory entries pointing at the same local file: one byte range, two files."""
    data = bytearray(make_zip({"a.fit": RUN_FIT.read_bytes(), "b.fit": SHORT_RUN_FIT.read_bytes()}))
    second = data.find(b"PK\x01\x02", data.find(b"PK\x01\x02") + 4)
    struct.pack_into("<I", data, second + 42, 0)  # b's local header offset := a's
    return bytes(data)


def test_overlapping_entries_are_refused() -> None:
    zipfile.ZipFile(__import__("io").BytesIO(_overlapping_zip())).infolist()  # a readable ZIP
    with pytest.raises(UnsafeArchiveError, match="overlapping entries"):
        list(iter_fit_members(_overlapping_zip(), ArchiveLimits()))
    with pytest.raises(UnsafeArchiveError, match="overlapping entries"):
        safe_extract_single_fit(_overlapping_zip())


def test_a_zip_nested_two_deep_is_refused_with_a_reason() -> None:
    deepest = make_zip({"run.fit": RUN_FIT.read_bytes()})
    inner = make_zip({"short.fit": SHORT_RUN_FIT.read_bytes(), "deeper.zip": deepest})
    export = make_zip({"export/inner.zip": inner})
    members = list(iter_fit_members(export, ArchiveLimits()))
    assert [(m.name, m.data is not None, m.refused) for m in members] == [
        ("export/inner.zip/short.fit", True, None),
        (
            "export/inner.zip/deeper.zip",
            False,
            "a ZIP inside a ZIP inside the export: nested too deep, not read",
        ),
    ]


def test_nested_zips_share_one_total() -> None:
    run = RUN_FIT.read_bytes()
    export = make_zip({"one.zip": make_zip({"a.fit": run}), "two.zip": make_zip({"b.fit": run})})
    limits = ArchiveLimits(max_total_bytes=len(run) + 10)  # room for one file, not two
    members = list(iter_fit_members(export, limits))
    assert [m.refused is None for m in members] == [True, False]
    assert "in total" in (members[1].refused or "")


@pytest.mark.parametrize(
    ("name", "email", "message"),
    [
        ("", None, "cannot be empty"),
        ("   ", None, "cannot be empty"),
        ("x" * 121, None, "too long"),
        ("ana\x1b[31m", None, "control characters"),
        ("bo", "not-an-address", "not an email address"),
        ("bo", "a@b@example.org", "not an email address"),
        ("bo", "bo@example.org\nBcc: x@example.org", "not an email address"),
    ],
)
def test_bad_names_and_emails_are_refused(
    db_session: Session, name: str, email: str | None, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        add_athlete(db_session, name, email=email, timezone="UTC")


def test_names_are_unique_regardless_of_case_and_trimmed(db_session: Session) -> None:
    ana = add_athlete(db_session, "  ana ", email=" ana@example.org ", timezone="UTC")
    assert (ana.name, ana.email) == ("ana", "ana@example.org")
    with pytest.raises(ConfigError, match="'ana' already exists"):
        add_athlete(db_session, "Ana", email=None, timezone="UTC")
    with pytest.raises(ConfigError, match="not an email address"):
        update_athlete(db_session, ana, email="nope")


def test_cli_refuses_an_overlong_name_in_one_line(db_settings: Settings) -> None:
    result = run_cli("athlete", "add", "n" * 500, "--timezone", "UTC")
    assert result.exit_code == 2 and "too long" in result.output and "Traceback" not in result.output
