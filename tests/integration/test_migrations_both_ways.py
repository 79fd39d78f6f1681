"""Every migration runs both ways with data in the tables, on SQLite and PostgreSQL.

On SQLite a batch migration rebuilds a table (copy, DROP, rename): with foreign keys on, the
DROP of `athlete` deleted every row that references it (ON DELETE CASCADE), so upgrading an
embedded install to 0004 emptied its activities, verdicts and emails. This walk found that.

The walk reads the revisions Alembic has (whatever exists: new migrations are walked too):
up one revision at a time to head, down one at a time to the first revision, up again. Rows
are written at the first revision and at head into every table, every column filled (so a
downgrade drops columns that hold data); rows of the tables that exist at the first revision
must survive the whole walk, and the schema at the end must be exactly the models'.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, Table, create_engine, func, inspect, select, text
from sqlalchemy.types import TypeDecorator

from sync.db.migrate import alembic_config, downgrade, upgrade
from sync.db.models import Base
from sync.db.session import make_engine
from tests.conftest import POSTGRES_ADMIN_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database of its own with no schema (not the session's: this one goes down)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'walk.sqlite3'}")
        yield engine
        engine.dispose()
        return
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"legday_walk_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _revisions(cfg: Config) -> list[str]:
    """The revision ids from the first to head (one linear chain)."""
    script = ScriptDirectory.from_config(cfg)
    assert len(script.get_heads()) == 1, f"more than one head: {script.get_heads()}"
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def _migrate(engine: Engine, step: str, revision: str) -> None:
    # legday's own entry points (`legday db upgrade` runs the first), not Alembic's directly.
    (upgrade if step == "upgrade" else downgrade)(engine=engine, revision=revision)


def _kind(column: Any) -> type:
    """The Python type of a column's values (through legday's own TypeDecorators)."""
    typ = column.type
    if isinstance(typ, TypeDecorator):
        typ = typ.impl_instance
    try:
        return typ.python_type
    except NotImplementedError:
        return str


# Status columns take a value of their enum at every revision (0011 adds CHECK constraints and
# maps unknown values to a safe member, which would change the row under the test).
STATUS_VALUES = {
    ("garmin_account", "status"): "ok",
    ("raw_file", "status"): "decoded",
    ("email_delivery", "status"): "sent",
    ("pushed_workout", "state"): "scheduled",
    ("sync_run", "status"): "ok",
    ("notify_channel", "status"): "active",
    ("channel_delivery", "status"): "sent",
}


def _value(column: Any, n: int) -> Any:
    """A value of the column's type; `n` makes it differ from the other rows' (unique columns)."""
    fixed = STATUS_VALUES.get((column.table.name, column.name))
    if fixed is not None:
        return fixed
    kind = _kind(column)
    if kind is bool:
        return n % 2 == 1
    if kind is int:
        return n
    if kind is float:
        return n + 0.5
    if kind is bytes:
        return f"bytes-{n}".encode()
    if kind is datetime:
        return datetime(2026, 1, 1, 6, 30, tzinfo=UTC) + timedelta(days=n)
    if kind is date:
        return date(2026, 1, 1) + timedelta(days=n)
    if kind is time:
        return time(6, n % 60)
    if kind is dict:
        return {"n": n}
    if kind is list:
        return [f"item-{n}"]
    length = getattr(column.type, "length", None) or 64
    return f"v{n}"[:length]


def _fill(conn: Connection, tables: list[Table], n: int) -> dict[str, int]:
    """One row in every table (parents first), every column filled; table -> its integer id."""
    ids: dict[str, int] = {}
    for table in tables:
        row: dict[str, Any] = {}
        for column in table.columns:
            fks = list(column.foreign_keys)
            if fks:
                row[column.name] = ids[fks[0].column.table.name]
            elif column.primary_key and column.autoincrement in (True, "auto") and _is_int(column):
                continue  # the database numbers it
            else:
                row[column.name] = _value(column, n)
        result = conn.execute(table.insert().values(**row))
        key = result.inserted_primary_key
        if key is not None and len(key) == 1 and isinstance(key[0], int):
            ids[table.name] = key[0]
    return ids


def _is_int(column: Any) -> bool:
    return _kind(column) is int


def _counts(engine: Engine, names: list[str]) -> dict[str, int]:
    meta = MetaData()
    meta.reflect(engine, only=names)
    with engine.connect() as conn:
        return {n: conn.execute(select(func.count()).select_from(meta.tables[n])).scalar_one() for n in names}


def test_every_migration_goes_down_and_up_again_with_data(empty_engine: Engine) -> None:
    revisions = _revisions(alembic_config())
    first, head = revisions[0], revisions[-1]

    # At the first revision: a row in each of its tables (reflected: the schema of that time).
    _migrate(empty_engine, "upgrade", first)
    old = MetaData()
    old.reflect(empty_engine)
    old_tables = [t for t in old.sorted_tables if t.name != "alembic_version"]
    assert old_tables, "the first revision creates no table"
    with empty_engine.begin() as conn:
        _fill(conn, old_tables, 1)
    survivors = [t.name for t in old_tables]

    for revision in revisions[1:]:  # up, one revision at a time
        _migrate(empty_engine, "upgrade", revision)
    with empty_engine.begin() as conn:  # at head: a row in every table, every column filled
        _fill(conn, list(Base.metadata.sorted_tables), 2)
    at_head = _counts(empty_engine, [t.name for t in Base.metadata.sorted_tables])
    assert all(count >= 1 for count in at_head.values()), at_head
    assert {n: at_head[n] for n in survivors} == dict.fromkeys(survivors, 2), "an upgrade lost rows"

    for revision in reversed(revisions[:-1]):  # down, one at a time, to the first revision
        _migrate(empty_engine, "downgrade", revision)
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [first]
    assert set(inspect(empty_engine).get_table_names()) == {*survivors, "alembic_version"}
    down = _counts(empty_engine, survivors)
    assert down == {name: at_head[name] for name in survivors}, "a downgrade lost rows"

    for revision in revisions[1:]:  # and up again
        _migrate(empty_engine, "upgrade", revision)
    assert _counts(empty_engine, survivors) == down, "an upgrade lost rows"
    cfg = alembic_config()
    with empty_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.check(cfg)  # the schema is exactly the models' again
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
    with empty_engine.begin() as conn:  # and takes new rows everywhere
        _fill(conn, list(Base.metadata.sorted_tables), 3)
