"""Shared fixtures: settings in a temp dir, real SQLite and PostgreSQL databases.

PostgreSQL comes from LEGDAY_TEST_POSTGRES_URL (default: the local server at 127.0.0.1:5432,
database `test`). `.ci/run` starts one when none is running; if it still cannot be reached the
PostgreSQL tests fail with that message -- they never skip silently.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from sync.config import Settings, get_settings
from sync.db.migrate import upgrade
from sync.db.models import Base
from sync.db.session import engine_for
from sync.garmin import client as garmin_client
from tests.garmin_fixtures import garmin_env, sandbox  # noqa: F401 - fixtures for every test module
from tests.smtp_server import SmtpServer, smtp_server  # noqa: F401 - a fixture for every test module

REPO_ROOT = Path(__file__).resolve().parents[1]
POSTGRES_ADMIN_URL = os.environ.get(
    "LEGDAY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


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
    name = f"legday_test_{uuid.uuid4().hex[:10]}"
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
    engine = engine_for(url)
    with engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in reversed(Base.metadata.sorted_tables))
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


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
        upgrade(settings)
        yield settings
        engine_for(settings.sqlalchemy_url).dispose()
    get_settings.cache_clear()


@pytest.fixture
def db_session(db_settings: Settings) -> Iterator[Session]:
    """A session on a migrated database of either backend."""
    from sync.db.session import session_scope

    with session_scope(db_settings) as session:
        yield session
