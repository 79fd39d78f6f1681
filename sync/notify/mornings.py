"""Who is due for the morning message now: O(due) and paged, for the email and push channels.

Each morning output keeps, per row (the email on `athlete.next_send_at`; a push channel on a
column of its own), the next moment its message may be due, indexed. `claim_due_mornings`
hands out the rows whose moment has come, a page at a time, each row to one dispatcher only
(sync/db/claim.py); whoever sends then stores the row's real next moment: `next_morning_at`
after a settled day, a retry's backoff otherwise. Being early is harmless (the sender decides
with its own delivery row and finds nothing due); being late is what the writers avoid, by
making a row due at once when the athlete's address, send time or time zone changes.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import InstrumentedAttribute, Session

from sync.db.claim import PAGE, claim_due
from sync.scheduling import local_moment, local_today


def next_morning_at(timezone: str, send_time: time, now: datetime, *, today_settled: bool) -> datetime:
    """The athlete's next send moment: today's if it is still ahead and today is not settled,
    else tomorrow's (local wall time, DST-safe)."""
    today = local_today(timezone, now)
    moment = local_moment(today, send_time, timezone)
    if now < moment and not today_settled:
        return moment
    return local_moment(today + timedelta(days=1), send_time, timezone)


def claim_due_mornings(
    session: Session,
    column: InstrumentedAttribute[Any],
    now: datetime,
    hold_s: float,
    *,
    limit: int = PAGE,
    extra: tuple[InstrumentedAttribute[Any], ...] = (),
) -> list[tuple[Any, ...]]:
    """Up to `limit` rows whose morning moment (`column`) has come, oldest first, held `hold_s`
    for their sender; rows of (id, *extra). The caller commits, then sends or queues each."""
    return claim_due(session, column, now, now + timedelta(seconds=hold_s), limit=limit, extra=extra)
