"""Shared fixtures: settings in a temp dir, real SQLite and PostgreSQL databases, a Redis.

PostgreSQL comes from LEGDAY_TEST_POSTGRES_URL (default: the local server at 127.0.0.1:5432,
database `test`). `.ci/run` starts one when none is running; if it still cannot be reached the
PostgreSQL tests fail with that message -- they never skip silently.

The suite runs in parallel (pytest-xdist, `-n` in pyproject's addopts). Each pytest process
(each xdist worker, or the one process of a serial run) has databases of its own, so no two
workers ever share a row, a queue or a key:
- PostgreSQL: one database per session (`postgres_url`), created, migrated and dropped;
- Redis: a redis-server of its own on a free port, started in `pytest_configure` (before any test
  module reads `testkit.helpers.redis_db_url`) and killed in `pytest_unconfigure`. Without a
  `redis-server` binary the session falls back to LEGDAY_TEST_REDIS_URL (default
  127.0.0.1:6379), which is then safe only for a serial run (`-n 0`).
"""

from __future__ import annotations

import gc
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from sync.config import Settings, get_settings
from sync.db.migrate import upgrade
from sync.db.models import Base
from sync.db.session import engine_for
from sync.garmin import client as garmin_client
from testkit.garmin_fixtures import garmin_env, sandbox  # noqa: F401 - fixtures for every test module
from testkit.helpers import wait_for
from testkit.smtp_server import SmtpServer, smtp_server  # noqa: F401 - a fixture for every test module
from testkit.xdist_groups import group_by_module_fixture, long_first

REPO_ROOT = Path(__file__).resolve().parents[1]
POSTGRES_ADMIN_URL = os.environ.get(
    "LEGDAY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _is_xdist_controller(config: pytest.Config) -> bool:
    # The controller only hands out tests; its workers run them (each with its own services).
    return not hasattr(config, "workerinput") and getattr(config.option, "dist", "no") != "no"


class _SessionRedis:
    """A redis-server for one pytest process: on a free port, no persistence, killed at the end."""

    def __init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="legday-test-redis-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def start(self) -> str:
        """Start it (a few ports are tried: another process may take a free one first); its URL."""
        for _ in range(5):
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                self.port = probe.getsockname()[1]
            argv = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", ""]
            argv += ["--appendonly", "no", "--dir", str(self.workdir)]
            self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            client = redis.Redis(port=self.port, socket_connect_timeout=1)

            def answers(proc: subprocess.Popen[bytes] = self.proc, client: redis.Redis = client) -> bool:
                if proc.poll() is not None:
                    return True  # exited (the port was taken): stop waiting
                try:
                    return bool(client.ping())
                except redis.RedisError:
                    return False  # still starting

            try:
                if wait_for(answers, 15, step=0.05) and self.proc.poll() is None:
                    return f"redis://127.0.0.1:{self.port}"
            finally:
                client.close()
            self.stop()
        raise RuntimeError("could not start a redis-server for the tests")

    def stop(self) -> None:
        """Kill it and remove its directory."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None


_SESSION_REDIS: _SessionRedis | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Give this pytest process a Redis of its own before the test modules are imported."""
    global _SESSION_REDIS
    if _is_xdist_controller(config) or shutil.which("redis-server") is None:
        return
    _SESSION_REDIS = _SessionRedis()
    os.environ["LEGDAY_TEST_REDIS_URL"] = _SESSION_REDIS.start()


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop this process's Redis."""
    if _SESSION_REDIS is not None:
        _SESSION_REDIS.stop()
        shutil.rmtree(_SESSION_REDIS.workdir, ignore_errors=True)


# Keeps each module with a module-scoped fixture on one xdist worker (testkit/xdist_groups.py).
pytest_itemcollected = group_by_module_fixture
# Starts the `long` tests first, so that none of them ends the run alone (the same module).
pytest_collection_modifyitems = long_first


def pytest_collection_finish(session: pytest.Session) -> None:
    """Freeze what collection built (every module, test item and parametrisation): it lives for
    the whole session, and the cyclic collector then stops walking it on each full collection.
    Measured on an in-process subset of the suite: 51 CPU-s -> 46 CPU-s."""
    gc.collect()
    gc.freeze()


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto`: two workers per core this process may use (PYTEST_XDIST_AUTO_NUM_WORKERS wins).

    About half of a test's time is spent waiting on a service, a child process or a socket
    (measured: 700 worker-seconds for 330 CPU-seconds), so a second worker per core fills the
    waits: on 2 cores, 196 s instead of 306 s for the whole suite. Each worker has its own
    databases and redis-server, so more workers never share state.
    """
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist's own hook reads it
    return 2 * len(os.sched_getaffinity(0))


def shared_dir(name: str) -> Path | None:
    """A folder of ../shared beside the checkout, or None when this machine has none."""
    path = REPO_ROOT.parent / "shared" / name
    return path if path.is_dir() else None


def require_shared(name: str) -> Path:
    """A ../shared folder; skip plainly when absent, but fail in CI where it must exist."""
    path = shared_dir(name)
    if path is None:
        message = f"../shared/{name} not found beside the checkout: these tests did not run"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session, dropped afterwards."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means the same thing here
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL.split('@')[-1]} ({type(exc).__name__}). "
            "Start it (see scripts/services.sh) or set LEGDAY_TEST_POSTGRES_URL."
        )
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"legday_test_{worker}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(engine=engine_for(url))
    yield url
    engine_for(url).dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings for an embedded install in a temp dir (also exported to the env for the CLI)."""
    monkeypatch.setenv("LEGDAY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LEGDAY_DATABASE_URL", raising=False)
    monkeypatch.delenv("LEGDAY_REDIS_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture
def child_env(settings: Settings) -> dict[str, str]:
    """The environment for a `legday` child process on this test's embedded data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGDAY_")}
    env["LEGDAY_DATA_DIR"] = str(settings.data_dir)
    return env


@pytest.fixture
def service_settings(
    postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    smtp_server: SmtpServer,  # noqa: F811 - the fixture: its LEGDAY_SMTP_* must be set first
) -> Iterator[Settings]:
    """A service install for chaos tests: the session's PostgreSQL, emails to the SMTP sink.

    Every other LEGDAY_* variable is cleared (child processes inherit the environment), and
    garth's process-wide OAuth consumer cache starts empty.
    """
    monkeypatch.chdir(tmp_path)
    keep = ("LEGDAY_SMTP", "LEGDAY_MAIL_FROM")
    for key in [k for k in os.environ if k.startswith("LEGDAY_") and not k.startswith(keep)]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("LEGDAY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LEGDAY_DATABASE_URL", postgres_url)
    monkeypatch.setenv("LEGDAY_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setattr(garmin_client.garth_sso, "OAUTH_CONSUMER", {})
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()
    _truncate_all(postgres_url)


def _truncate_all(url: str) -> None:
    """Empty every table of the session's PostgreSQL database and restart its id sequences.

    Only the tables that hold rows are emptied, by DELETE, children first: a TRUNCATE of all
    twelve tables costs about 0.25 s on this machine (it rewrites each table's files), one
    probe plus a DELETE of a few rows about 0.02 s. A savepoint rollback is no option: most
    tests commit through other sessions and processes (workers, CLIs, the report server).
    """
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]  # children first
    probe = " UNION ALL ".join(f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in tables)
    with engine_for(url).begin() as conn:
        used = set(conn.execute(text(probe)).scalars())
        for table in tables:
            if table in used:
                conn.execute(text(f'DELETE FROM "{table}"'))
        # Ids start at 1 again in every test, as after TRUNCATE ... RESTART IDENTITY.
        conn.execute(
            text(
                "SELECT setval(format('%I.%I', schemaname, sequencename), 1, false) FROM pg_sequences "
                "WHERE schemaname = current_schema() AND last_value IS NOT NULL"
            )
        )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to head for the session: each test gets a copy of it."""
    path = tmp_path_factory.mktemp("sqlite-template") / "legday.sqlite3"
    engine = engine_for(f"sqlite:///{path}")
    upgrade(engine=engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def db_settings(
    request: pytest.FixtureRequest, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """Settings whose database is a migrated SQLite file or the session's PostgreSQL database."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        monkeypatch.setenv("LEGDAY_DATABASE_URL", url)
        get_settings.cache_clear()
        configured = get_settings()
        yield configured
        _truncate_all(url)
    else:
        # A copy of the migrated template, not an `alembic upgrade` per test (~10x cheaper).
        template = request.getfixturevalue("sqlite_template")
        target = Path(settings.sqlalchemy_url.split("///", 1)[1])
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, target)
        target.chmod(0o600)  # owner-only, as make_engine creates it
        yield settings
        engine_for(settings.sqlalchemy_url).dispose()
    get_settings.cache_clear()


@pytest.fixture
def db_session(db_settings: Settings) -> Iterator[Session]:
    """A session on a migrated database of either backend."""
    from sync.db.session import session_scope

    with session_scope(db_settings) as session:
        yield session
