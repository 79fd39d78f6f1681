"""The hot read path of the API (today, a day, the watch feed) in SQLAlchemy Core.

One indexed query on one pooled connection, no ORM unit of work: the token's athlete joined with
their stored verdicts of the three dates that can be "today" somewhere on Earth (UTC date -1, 0, +1).
About a tenth of the cost of the same reads through a Session, which is what keeps the API near a
bare endpoint's throughput.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, Row, bindparam, select

from sync.db.models import AnnouncedVerdict, Athlete, VerdictRecord
from sync.readiness.verdict import Verdict
from sync.scheduling import local_today
from sync.verdicts.read import StoredVerdict, counting, from_row
from sync.web.tokens import MAX_TOKEN_LENGTH, hash_token

_A = Athlete.__table__
_V = VerdictRecord.__table__

_JOINED = (
    select(
        _A.c.id,
        _A.c.timezone,
        _A.c.report_token_hash,
        _V.c.id.label("verdict_id"),
        _V.c.date,
        _V.c.model_version,
        _V.c.payload,
        _V.c.computed_at,
    )
    .select_from(
        _A.outerjoin(
            _V,
            (_V.c.athlete_id == _A.c.id) & _V.c.date.in_([bindparam("d0"), bindparam("d1"), bindparam("d2")]),
        )
    )
    .where(_A.c.report_token_hash == bindparam("digest"))
)


@dataclass(frozen=True)
class Owner:
    """The athlete a token names: what the read path needs of them."""

    id: int
    timezone: str


def owner_and_verdict(
    conn: Connection, token: str | None, day: date | None, now: datetime | None = None
) -> tuple[Owner, date, StoredVerdict | None] | None:
    """In one query: the token's owner (None when the token is not valid), the day asked for
    (`day`, or the owner's local today) and the verdict that counts for that day, if any (the
    one rule of `sync.verdicts.read`, applied to the day's rows)."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return None
    digest = hash_token(token)
    utc_today = (now or datetime.now(UTC)).date()
    dates = [day] * 3 if day else [utc_today + timedelta(days=k) for k in (-1, 0, 1)]
    rows = conn.execute(_JOINED, {"digest": digest, "d0": dates[0], "d1": dates[1], "d2": dates[2]}).all()
    if not rows or not hmac.compare_digest(rows[0].report_token_hash or "", digest):
        return None
    owner = Owner(rows[0].id, rows[0].timezone)
    the_day = day or local_today(owner.timezone, now)
    row = counting(_Row(r) for r in rows if r.date == the_day)
    return owner, the_day, from_row(row) if row is not None else None


class _Row:
    """A joined row seen as a verdict row (its verdict id under the name the rule reads)."""

    def __init__(self, row: Row) -> None:
        self.id, self.date, self.model_version = row.verdict_id, row.date, row.model_version
        self.payload, self.computed_at = row.payload, row.computed_at


_ANNOUNCED = AnnouncedVerdict.__table__
_ANNOUNCED_OF = select(_ANNOUNCED).where(
    (_ANNOUNCED.c.athlete_id == bindparam("athlete_id")) & (_ANNOUNCED.c.date == bindparam("day"))
)


def announced_for(conn: Connection, athlete_id: int, day: date) -> StoredVerdict | None:
    """The verdict the day's first morning message said (`sync.verdicts.announced`), or None:
    one lookup by its unique key, after `owner_and_verdict`."""
    row = conn.execute(_ANNOUNCED_OF, {"athlete_id": athlete_id, "day": day}).first()
    if row is None:
        return None
    return StoredVerdict(
        verdict=Verdict.model_validate(row.payload),
        date=row.date,
        computed_at=row.computed_at,
        model_version=row.model_version,
    )
