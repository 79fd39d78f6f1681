"""Claim the rows that are due: a page of `next_due <= now`, held so no other dispatcher takes them.

The one pattern every dispatcher uses (syncs, verdicts, emails; push channels may too): a row
carries the moment it is due next in an indexed column; a tick selects a page of rows whose
moment has come, oldest first, and moves the moment to `hold_until` in the same transaction.
The caller commits, then queues the work; the work sets the row's real next moment when it is
done. A task that is lost (a worker killed, a message expired) leaves the hold, and the row is
due again once the hold is over: nothing waits forever, nothing is handed out twice at once.

On PostgreSQL the page is read `FOR UPDATE SKIP LOCKED`, so two dispatchers running at the same
moment take disjoint pages without waiting on each other; on SQLite (one writer at a time) the
conditional UPDATE alone decides. Either way the UPDATE re-checks `column <= now`, so a row
claimed by someone else in between is not returned. Every statement carries at most `limit`
parameters, whatever the number of rows in the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

PAGE = 500  # rows per claim: one short transaction each


def claim_due(
    session: Session,
    column: InstrumentedAttribute[Any],
    now: datetime,
    hold_until: datetime,
    *,
    limit: int = PAGE,
    extra: Sequence[InstrumentedAttribute[Any]] = (),
) -> list[tuple[Any, ...]]:
    """Up to `limit` rows of `column`'s table with `column <= now`, oldest first, now held.

    Returns tuples of (id, *extra) as they were before the claim (so `extra` may include `column`
    itself, to see how overdue a row was). NULL in `column` means "not scheduled": never due.
    """
    model = column.class_
    pk = model.id
    page = session.execute(
        select(pk, *extra)
        .where(column <= now)
        .order_by(column, pk)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not page:
        return []
    won = set(
        session.scalars(
            update(model)
            .where(pk.in_([row[0] for row in page]), column <= now)
            .values({column: hold_until})
            .returning(pk)
            .execution_options(synchronize_session=False)
        )
    )
    return [tuple(row) for row in page if row[0] in won]
