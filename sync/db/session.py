"""Engine and session scope. One engine per process (disposed after fork by the worker)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import CursorResult, Engine, Result, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from sync.config import Settings, get_settings
from sync.private_files import touch_private


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001 - DB-API objects
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the importer
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine for `url`; SQLite gets foreign keys, WAL and a busy timeout."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            # Created owner-only before SQLite opens it: its -wal and -shm files copy its mode.
            touch_private(Path(path))
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


_ENGINES: dict[str, Engine] = {}


def engine_for(url: str) -> Engine:
    """The process-wide engine for a URL."""
    engine = _ENGINES.get(url)
    if engine is None:
        engine = _ENGINES[url] = make_engine(url)
    return engine


def dispose_engines(*, close: bool = True) -> None:
    """Forget every engine. After a fork use close=False: the parent still owns those sockets."""
    for engine in _ENGINES.values():
        engine.dispose(close=close)
    _ENGINES.clear()


@contextmanager
def session_scope(settings: Settings | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    settings = settings or get_settings()
    factory = sessionmaker(engine_for(settings.sqlalchemy_url), expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def rows_matched(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE run through `Session.execute` matched.

    SQLAlchemy 2.1 types that answer as a plain Result; for these statements it is the
    CursorResult that carries the count.
    """
    assert isinstance(result, CursorResult), type(result)
    return result.rowcount
