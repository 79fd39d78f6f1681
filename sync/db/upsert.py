"""Dialect-aware upserts on a natural key (SQLite and PostgreSQL both speak ON CONFLICT).

Statements are built once per (dialect, table, columns, key, mode) and reused: building an
INSERT ... ON CONFLICT construct costs more Python time than running it on a small row.
`upsert_many` writes a whole batch (a file's strength sets, a window of wellness days) with
one statement: the executemany goes through SQLAlchemy's "insertmanyvalues", which sends
multi-row VALUES (RETURNING is what makes it do so on every driver; the ids are not read).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from sync.db.models import Base

_StatementKey = tuple[str, str, tuple[str, ...], tuple[str, ...], bool]
_STATEMENTS: dict[_StatementKey, Insert] = {}


def _table_of(model: type[Base]) -> Table:
    """The model's Table: SQLAlchemy types `__table__` as any FromClause, ours are all tables."""
    table = model.__table__
    assert isinstance(table, Table), model
    return table


def _statement(
    dialect: str, table: Table, columns: tuple[str, ...], keys: tuple[str, ...], update: bool
) -> Insert:
    """INSERT ... ON CONFLICT (keys) DO UPDATE the other columns (or DO NOTHING) RETURNING id."""
    cache_key = (dialect, table.name, columns, keys, update)
    stmt = _STATEMENTS.get(cache_key)
    if stmt is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        base = insert(table)
        changes = {c: base.excluded[c] for c in columns if c not in keys}
        if update and changes:
            stmt = base.on_conflict_do_update(index_elements=list(keys), set_=changes)
        else:
            stmt = base.on_conflict_do_nothing(index_elements=list(keys))
        stmt = stmt.returning(table.c.id)
        _STATEMENTS[cache_key] = stmt
    return stmt


def upsert(
    session: Session,
    model: type[Base],
    values: dict[str, Any],
    keys: Sequence[str],
    *,
    update: bool = True,
) -> int:
    """Insert `values`, or update the row with the same `keys`; return the row id.

    With `update=False` an existing row is left untouched (insert-if-absent).
    """
    table = _table_of(model)
    dialect = session.get_bind().dialect.name
    stmt = _statement(dialect, table, tuple(values), tuple(keys), update)
    row_id = session.execute(stmt, values).scalar()
    if row_id is None:  # DO NOTHING returns no row: look the existing one up
        where = [table.c[k] == values[k] for k in keys]
        row_id = session.execute(table.select().with_only_columns(table.c.id).where(*where)).scalar_one()
    return int(row_id)


def insert_if_new(session: Session, model: type[Base], values: dict[str, Any]) -> int | None:
    """Insert `values` unless the row would break any unique key; return its id, or None.

    `INSERT ... ON CONFLICT DO NOTHING` without a conflict target, so every unique constraint
    of the table counts. The database decides, also between concurrent writers: a second
    transaction inserting the same key waits for the first and then inserts nothing, which
    no check before the insert can guarantee.
    """
    table = _table_of(model)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table).values(values).on_conflict_do_nothing().returning(table.c.id)
    row_id = session.execute(stmt).scalar()
    return None if row_id is None else int(row_id)


def upsert_many(
    session: Session,
    model: type[Base],
    rows: Iterable[Mapping[str, Any]],
    keys: Sequence[str],
    *,
    update: bool = True,
) -> int:
    """`upsert` for many rows at once, without returning ids; returns the rows written.

    The outcome is the one of calling `upsert` row by row in order: rows with the same key
    are merged first (later values win when updating; the first row wins when inserting if
    absent), because PostgreSQL refuses to touch one row twice in a statement. Rows may
    carry different columns (only known wellness values are written): each set of columns
    is one statement.
    """
    key_names = tuple(keys)
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        natural = tuple(row[k] for k in key_names)
        seen = merged.get(natural)
        if seen is None:
            merged[natural] = dict(row)
        elif update:
            seen.update(row)
    if not merged:
        return 0
    table = _table_of(model)
    dialect = session.get_bind().dialect.name
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in merged.values():
        by_columns.setdefault(tuple(row), []).append(row)
    for columns, batch in by_columns.items():
        session.execute(_statement(dialect, table, columns, key_names, update), batch)
    return len(merged)
