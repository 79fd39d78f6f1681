"""The API's hot read (today, a day, the watch feed) on the database driver itself, on the loop.

`sync.web.reads.JOINED` is compiled once per dialect and run on a connection kept for these
reads, with no SQLAlchemy connection, transaction or result object around it (those cost about
four times the query itself) and no thread hop:

One statement per read: the day's verdicts come with the announced one (sync/web/reads.py).

- SQLite: one `sqlite3` connection per application, opened `query_only` (a GET never writes,
  and here the database refuses it too) in autocommit mode, read on the event loop (a local
  page-cache lookup has nothing to wait for). Each SELECT outside a transaction sees the last
  commit (WAL), so a revoked token is refused by the next request.
- PostgreSQL: a psycopg_pool `AsyncConnectionPool` of autocommit connections (one statement is
  its own snapshot: one round trip per read, no BEGIN/ROLLBACK), awaited on the loop, sized by
  `api_read_pool_size`: a burst waits for a connection instead of forking overflow backends.
  psycopg prepares the statement on each connection after its fifth use.

Rows are read into `_Joined` with the column types SQLAlchemy would give (SQLite keeps dates as
ISO text and naive UTC datetimes; psycopg decodes dates and timestamptz itself), except the
payload, kept as its JSON text: the typed verdict is parsed once per distinct row content
(`_parsed`, keyed by the text itself, so a hit is exactly what parsing would give). What the
rows say is decided by `sync.web.reads.found_in`, the same function as the Core path, and
tests/integration/test_hot_read.py requires both paths to give the same answers.
"""

from __future__ import annotations

import asyncio
import functools
import json
import sqlite3
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from sqlalchemy import make_url
from sqlalchemy.dialects import postgresql, sqlite

from sync.config import Settings
from sync.verdicts.read import StoredVerdict, VerdictRow, from_row
from sync.web.reads import JOINED, Found, found_in, query_params

# Parsed verdicts kept: a few per athlete polling at once (each a few KiB).
PARSED_CACHE_SIZE = 1024


class _Joined(NamedTuple):
    """One row of `JOINED`, typed as SQLAlchemy would type it."""

    id: int
    timezone: str
    report_token_hash: str | None
    verdict_id: int | None
    date: date | None
    model_version: str | None
    payload: Any
    computed_at: datetime | None
    announced_id: int | None
    announced_model_version: str | None
    announced_payload: Any
    announced_computed_at: datetime | None


def _utc(at: datetime | None) -> datetime | None:
    """A psycopg timestamptz in UTC, as SQLAlchemy's UTCDateTime gives it."""
    return at.astimezone(UTC) if at is not None else None


def _naive_utc(text: str | None) -> datetime | None:
    """A SQLite datetime (ISO text, naive UTC) as SQLAlchemy's UTCDateTime gives it."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC) if text is not None else None


def _joined_utc(*c: Any) -> _Joined:
    """A psycopg row of `JOINED` (12 columns)."""
    return _Joined(c[0], c[1], c[2], c[3], c[4], c[5], c[6], _utc(c[7]), c[8], c[9], c[10], _utc(c[11]))


class _Stored(NamedTuple):
    """A verdict row with its payload parsed (what `from_row` reads)."""

    id: int
    date: date
    model_version: str
    payload: dict[str, Any]
    computed_at: datetime


@functools.lru_cache(maxsize=PARSED_CACHE_SIZE)
def _parsed(
    verdict_id: int, day: date, model_version: str, computed_at: datetime, payload: str
) -> StoredVerdict:
    """The typed verdict of one row content. The key is the whole row, payload text included: a
    recompute writes a new text or a new `computed_at`, so a stale entry can never be hit."""
    return from_row(_Stored(verdict_id, day, model_version, json.loads(payload), computed_at))


def _build(row: VerdictRow) -> StoredVerdict:
    # The day's verdict and its announced copy alike: a row's id, date, version, time, text.
    return _parsed(row.id, row.date, row.model_version, row.computed_at, row.payload)  # type: ignore[arg-type]


class SqliteReader:
    """Hot reads on one read-only sqlite3 connection, on the event loop."""

    def __init__(self, path: str) -> None:
        compiled = JOINED.compile(dialect=sqlite.dialect())
        self._sql = str(compiled)
        self._order = list(compiled.positiontup or ())
        self._path = path
        self._conn: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            # Opened on first use (the file exists by then); autocommit, and only reads allowed.
            conn = sqlite3.connect(self._path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA query_only=ON")
            self._conn = conn
        return self._conn

    async def read(self, token: str | None, day: date | None, now: datetime | None = None) -> Found | None:
        """`owner_and_verdict` for this token and day."""
        params = query_params(token, day, now)
        if params is None:
            return None
        # SQLite stores a Date as ISO text (SQLAlchemy's format), so it is bound as one.
        values = [v.isoformat() if isinstance(v, date) else v for v in (params[k] for k in self._order)]
        rows = [  # the payloads stay JSON text, parsed by `_parsed`
            _Joined(
                r[0],
                r[1],
                r[2],
                r[3],
                date.fromisoformat(r[4]) if r[4] is not None else None,
                r[5],
                r[6],
                _naive_utc(r[7]),
                r[8],
                r[9],
                r[10],
                _naive_utc(r[11]),
            )
            for r in self._connection().execute(self._sql, values).fetchall()
        ]
        return found_in(rows, str(params["digest"]), day, now, _build)

    async def close(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


async def _json_as_text(conn: Any) -> None:
    """JSON columns come back as their text on the pool's connections (`_parsed` parses them)."""
    from psycopg.types.string import TextLoader

    for name in ("json", "jsonb"):
        conn.adapters.register_loader(name, TextLoader)


class PostgresReader:
    """Hot reads on a pool of autocommit psycopg connections, awaited on the event loop.

    The pool belongs to the loop that opened it: a server started again on a new loop (tests
    do) gets a new pool.
    """

    def __init__(self, url: str, pool_size: int) -> None:
        self._sql = str(JOINED.compile(dialect=postgresql.psycopg.dialect()))
        self._conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._size = pool_size
        self._pool: Any = None  # psycopg_pool.AsyncConnectionPool, made on first use
        self._loop: asyncio.AbstractEventLoop | None = None

    async def _open(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._pool is None or self._loop is not loop:
            from psycopg_pool import AsyncConnectionPool

            # min_size 1: idle servers (and the tests' many short-lived apps) hold one
            # connection; under load the pool grows to max_size and keeps them for max_idle.
            pool = AsyncConnectionPool(
                self._conninfo,
                min_size=1,
                max_size=self._size,
                kwargs={"autocommit": True},
                configure=_json_as_text,
                open=False,
                name="legday-api-read",
            )
            await pool.open()
            self._pool, self._loop = pool, loop
        return self._pool

    async def read(self, token: str | None, day: date | None, now: datetime | None = None) -> Found | None:
        """`owner_and_verdict` for this token and day."""
        import psycopg

        params = query_params(token, day, now)
        if params is None:
            return None
        pool = await self._open()
        for attempt in (1, 2):
            try:
                async with pool.connection() as conn:
                    cur = await conn.execute(self._sql, params)
                    raw = await cur.fetchall()
                break
            except psycopg.OperationalError:
                # A connection that died (a database restart): the pool drops it on return, and
                # a read is harmless to repeat, once, on a fresh one.
                if attempt == 2:
                    raise
        rows = [_joined_utc(*r) for r in raw]
        return found_in(rows, str(params["digest"]), day, now, _build)

    async def close(self) -> None:
        """Close the pool's connections (on the loop that opened them)."""
        if self._pool is not None and self._loop is asyncio.get_running_loop():
            await self._pool.close()
        self._pool = self._loop = None


def reader_for(settings: Settings) -> SqliteReader | PostgresReader:
    """The hot reader for the settings' database."""
    url = settings.sqlalchemy_url
    if url.startswith("sqlite"):
        return SqliteReader(make_url(url).database or ":memory:")
    return PostgresReader(url, settings.api_read_pool_size)
