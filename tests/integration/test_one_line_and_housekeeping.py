"""One line where a traceback was, and housekeeping that leaves nothing behind or exposed.

Each test was written before its fix (issue: prove it holds).
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sync.config import Settings, get_settings
from sync.db.models import Activity, Quarantine, RawFile, SyncRun
from sync.db.session import dispose_engines, session_scope
from sync.ingest.batch import close_abandoned_imports
from testkit.garmin_fixtures import GarminEnv
from testkit.helpers import RUN_FIT, legday_process, run_cli

REPO = Path(__file__).resolve().parents[2]


# --- one line, not a traceback ------------------------------------------------------------


@pytest.mark.parametrize("args", [("today", "--date"), ("history", "--until")])
def test_far_dates_are_refused_in_one_line(settings: Settings, args: tuple[str, str]) -> None:
    assert run_cli("athlete", "add", "ana", "--timezone", "UTC").exit_code == 0
    result = run_cli(*args, "0001-01-01")
    assert result.exit_code == 2 and "outside 1900-2999" in result.output


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b'{"now": "0001-01-01T00:00:00+00:00"}', "year 1 is outside 1900-2999"),
        (b'{"now": "2026-03-10T06:30:00+00:00", "note": "\xff\xfe"}', "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_bad_context_files_get_one_line(
    settings: Settings, tmp_path: Path, content: bytes, needle: str
) -> None:
    path = tmp_path / "ctx.json"
    path.write_bytes(content)
    result = run_cli("verdict", "--context", path)
    assert result.exit_code == 2
    assert needle in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_sandbox_serve_starts_once_and_refuses_a_taken_port(
    child_env: dict[str, str], tmp_path: Path
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", "from sync.cli import main; main()", "sandbox", "serve", "--port", "0",
         "--tokens-dir", str(tmp_path / "tokens")],
        cwd=REPO, env=child_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        first = proc.stdout.readline()  # before the fix: "Address already in use" and exit
        assert first.startswith("Garmin sandbox at http://127.0.0.1:"), first + proc.stderr.read()
        proc.stdout.readline()  # the export line
        connect = proc.stdout.readline()  # the official way first: a Personal API key, from a file
        key_file = tmp_path / "tokens" / "personal_api_key.txt"
        assert "legday garmin connect --athlete NAME --key - --expires-in 90 <" in connect, connect
        assert key_file.read_text().startswith("GCDC_") and key_file.stat().st_mode & 0o077 == 0
        assert key_file.read_text() not in connect
        tokens = tmp_path / "tokens"  # owner-only, as the README promises for every secret
        for path in (tokens, tokens / "garth", *tokens.rglob("*.json")):
            assert path.stat().st_mode & 0o077 == 0, f"{path} is readable by others"
        assert len(list(tokens.rglob("*.json"))) == 3
        # Still serving: it answers HTTP (any status) after printing its address.
        base = first.split(" at ", 1)[1].split()[0]
        try:
            with urllib.request.urlopen(base + "/", timeout=10) as answer:
                assert answer.status
        except urllib.error.HTTPError as refused:
            assert refused.code
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = legday_process("sandbox", "serve", "--port", str(port), env=child_env)
    assert busy.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in busy.stderr
    assert "Traceback" not in busy.stderr
    bad = legday_process("sandbox", "serve", "--layout", "sideways", env=child_env)
    assert bad.returncode == 2 and "--layout must be one of" in bad.stderr


def _run_as_nobody(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """`legday ARGV` in a forked child that drops to `nobody` (root writes anywhere)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            os.dup2(write_end, 2)
            os.dup2(write_end, 1)
            sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - pytest's capture is the parent's
            sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
            os.chdir(cwd)
            dispose_engines(close=False)  # the parent's pooled connections were opened as root
            if os.geteuid() == 0:
                os.setgid(65534)
                os.setuid(65534)
            os.environ.clear()
            os.environ.update(env)
            get_settings.cache_clear()
            sys.argv = ["legday", *argv]
            from sync.cli import main

            try:
                main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # noqa: BLE001 - the exit status says it
            code = 71
        finally:
            sys.stderr.flush()
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as fh:
        out = fh.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out


def test_a_read_only_database_is_one_line(settings: Settings, child_env: dict[str, str]) -> None:
    assert run_cli("athlete", "add", "ana", "--timezone", "UTC").exit_code == 0
    settings.data_dir.chmod(0o755)
    db = settings.data_dir / "legday.sqlite3"
    assert db.exists()
    db.chmod(0o644)  # readable, not writable, for someone else
    code, out = _run_as_nobody(["soreness", "5"], child_env, settings.data_dir)
    assert code == 1, repr(out)
    assert out.startswith("legday: ") and "Traceback" not in out and len(out.strip().splitlines()) == 1


# --- housekeeping -------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_health_data_is_owner_only(settings: Settings) -> None:
    old = os.umask(0o022)  # a usual umask: files would be world-readable
    try:
        assert (
            run_cli("athlete", "add", "ana", "--timezone", "UTC", "--email", "ana@example.org").exit_code == 0
        )
        assert run_cli("import", RUN_FIT).exit_code == 0
        morning = datetime.now(UTC).replace(hour=7, minute=0, second=0, microsecond=0)  # after 06:30
        sent = run_cli("email", "dispatch", "--now", morning.isoformat())
        assert sent.exit_code == 0 and sent.output.startswith("sent 1,"), sent.output
    finally:
        os.umask(old)
    data = settings.data_dir
    db_files = [p for p in data.iterdir() if p.name.startswith("legday.sqlite3")]
    assert {p.name for p in db_files} >= {"legday.sqlite3"}
    raw = [p for p in (data / "raw").rglob("*") if p.is_file()]
    folders = [p for p in (data / "raw").rglob("*") if p.is_dir()] + [data / "raw"]
    outbox = [p for p in data.rglob("*.eml")]
    assert raw and outbox
    assert all(_mode(p) == 0o600 for p in [*db_files, *raw, *outbox]), [
        (p, oct(_mode(p))) for p in db_files + raw
    ]
    assert all(_mode(p) == 0o700 for p in folders)


def test_the_demo_clears_only_what_it_made(settings: Settings) -> None:
    demo = settings.data_dir / "demo"
    demo.mkdir(parents=True)
    (demo / "my-notes.txt").write_text("mine")
    assert run_cli("demo").exit_code == 0
    made = sorted(p.name for p in demo.iterdir())
    assert "my-notes.txt" in made and "legday.sqlite3" in made
    assert run_cli("demo").exit_code == 0  # the second run clears the first run's files
    assert (demo / "my-notes.txt").read_text() == "mine"


def test_a_killed_import_is_closed_as_interrupted(settings: Settings, child_env: dict[str, str]) -> None:
    assert run_cli("athlete", "add", "ana", "--timezone", "UTC").exit_code == 0
    with session_scope(settings) as s:
        from sync.db.models import Athlete

        ana = s.scalars(select(Athlete)).one()
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()  # a pid that no longer runs, as after a SIGKILL
        s.add(
            SyncRun(
                athlete_id=ana.id,
                kind="import",
                started_at=datetime.now(UTC) - timedelta(minutes=5),
                status="running",
                summary={"pid": dead.pid, "host": socket.gethostname()},
            )
        )
        s.add(
            SyncRun(
                athlete_id=ana.id,
                kind="import",
                started_at=datetime.now(UTC),
                status="running",
                summary={"pid": os.getpid(), "host": socket.gethostname()},  # alive: left alone
            )
        )
        s.commit()
        assert close_abandoned_imports(s, ana) == 1
    assert run_cli("import", RUN_FIT).exit_code == 0
    with session_scope(settings) as s:
        statuses = sorted(s.scalars(select(SyncRun.status)))
    assert statuses == ["interrupted", "ok", "running"]


def test_a_retried_file_leaves_no_quarantine_behind(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_cli("athlete", "add", "ana", "--timezone", "UTC").exit_code == 0
    monkeypatch.setenv("LEGDAY_MAX_FIT_BYTES", "1000")
    get_settings.cache_clear()
    assert run_cli("import", RUN_FIT).exit_code == 3  # too large: quarantined
    monkeypatch.delenv("LEGDAY_MAX_FIT_BYTES")
    get_settings.cache_clear()
    assert run_cli("import", RUN_FIT).exit_code == 0
    with session_scope(get_settings()) as s:
        assert s.scalar(select(func.count()).select_from(Quarantine)) == 0


def test_the_same_recording_with_other_bytes_is_stored_once(settings: Settings, tmp_path: Path) -> None:
    assert run_cli("athlete", "add", "ana", "--timezone", "UTC").exit_code == 0
    data = RUN_FIT.read_bytes()
    copy = tmp_path / "export-copy.fit"
    copy.write_bytes(data[:-2] + bytes([data[-2] ^ 0xFF, data[-1] ^ 0xFF]))  # another trailing CRC
    assert run_cli("import", RUN_FIT).exit_code == 0
    second = run_cli("import", copy)
    assert second.exit_code in (0, 3), second.output
    with session_scope(settings) as s:
        assert s.scalar(select(func.count()).select_from(Activity)) == 1
        assert s.scalar(select(func.count()).select_from(RawFile)) == 1


def test_backfill_moves_the_sync_cursors(garmin_env: GarminEnv) -> None:
    env = garmin_env
    athlete = env.athlete()
    account = env.link(athlete)
    today = datetime.now(UTC).date()
    report = env.backfill(account, today - timedelta(days=20))
    assert report.status == "ok"
    env.session.refresh(account)
    assert account.wellness_cursor == today
    newest = env.session.scalar(select(func.max(Activity.start_utc)))
    assert account.activity_cursor == newest
    env.sandbox.clear_log()

    env.sync(account)
    wellness_calls = [r for r in env.sandbox.requests("sleep")]
    assert len(wellness_calls) <= 4  # the overlap only, not the 14-day initial window again
