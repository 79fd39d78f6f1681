"""Small helpers for tests: run the real CLI, build ZIPs."""

from __future__ import annotations

import io
import os
import resource
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from sync.cli import app

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sync" / "samples"
LEG_DAY_FIT = SAMPLES / "fr965-strength-multisport-cycling-legs-01.fit"
UPPER_FIT = SAMPLES / "fr965-strength-dumbbell-bodyweight-01.fit"
RUN_FIT = SAMPLES / "fr645m-run-01.fit"
SHORT_RUN_FIT = SAMPLES / "fr110-run-01.fit"


def run_cli(*args: str):  # noqa: ANN201 - click Result
    """Invoke `legday ARGS` in-process, like a user would."""
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


MEMORY_LIMIT = 1 << 30  # 1 GiB of address space for a child: far above any FIT file


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def legday_process(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`legday ARGS` in a child process of this checkout, with 1 GiB of memory at most.

    For what the in-process runner cannot show: exit codes and stderr of `main()`, devices and
    FIFOs that could hang or exhaust the test process itself.
    """
    return subprocess.run(
        [sys.executable, "-c", "from sync.cli import main; main()", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_limit_memory,
        check=False,
    )


def wait_for(predicate: Callable[[], bool], seconds: float = 60, step: float = 0.2) -> bool:
    """Poll `predicate` until it holds (True) or `seconds` pass (False): for other processes' work."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def serving(url: str, proc: subprocess.Popen | None = None, seconds: float = 60) -> bool:
    """Wait until `url` answers HTTP at all (any status): True; False once `proc` (the server,
    when given) has exited or `seconds` have passed. For a server a test has just started."""

    def answers() -> bool:
        if proc is not None and proc.poll() is not None:
            raise _Exited
        try:
            urllib.request.urlopen(url, timeout=2).close()
        except urllib.error.HTTPError:
            return True  # an HTTP answer, if not a 2xx: the server is up
        except OSError:
            return False
        return True

    try:
        return wait_for(answers, seconds, step=0.1)
    except _Exited:
        return False


class _Exited(Exception):
    """The server process ended before it answered."""


def make_zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A ZIP holding `members` (names are written verbatim, even unsafe ones)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return buf.getvalue()


def redis_db_url(db: int) -> str:
    """The URL of Redis database number `db` on this pytest process's Redis server.

    That server is the process's own (tests/conftest.py starts one per xdist worker and exports
    LEGDAY_TEST_REDIS_URL before test modules are imported), so fixed numbers never collide.
    Read at each call, not at import: the variable is set in `pytest_configure`.
    """
    base = os.environ.get("LEGDAY_TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
    return f"{base}/{db}"
