"""Dialect-aware upsert on a natural key (SQLite and PostgreSQL both speak ON CONFLICT)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from sync.db.models import Base


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
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(model).values(**values)
    changes = {k: stmt.excluded[k] for k in values if k not in keys}
    if update and changes:
        stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=changes)
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    stmt = stmt.returning(model.id)  # type: ignore[attr-defined]
    row_id = session.execute(stmt).scalar()
    if row_id is None:  # DO NOTHING returns no row: look the existing one up
        table = model.__table__  # type: ignore[attr-defined]
        where = [table.c[k] == values[k] for k in keys]
        row_id = session.execute(table.select().with_only_columns(table.c.id).where(*where)).scalar_one()
    return int(row_id)
