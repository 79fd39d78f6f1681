"""The hot read of the API (today, a day, the watch feed): one query and what its rows mean.

One indexed query, no ORM unit of work: the token's athlete joined with their stored verdicts
of the three dates that can be "today" somewhere on Earth (UTC date -1, 0, +1), each with the
day's announced verdict (what its morning message said, by its unique key). The server runs it
on the database driver (sync/web/hotread.py); `owner_and_verdict` runs it through SQLAlchemy
Core, the reference the driver path is tested against. Both decide with `found_in`.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple, Protocol

from sqlalchemy import Connection, bindparam, select

from sync.db.models import AnnouncedVerdict, Athlete, VerdictRecord
from sync.scheduling import local_today
from sync.verdicts.read import StoredVerdict, VerdictRow, counting, from_row
from sync.web.api_tokens import MAX_TOKEN_LENGTH, hash_token

_A = Athlete.__table__
_V = VerdictRecord.__table__

_N = AnnouncedVerdict.__table__

JOINED = (
    select(
        _A.c.id,
        _A.c.timezone,
        _A.c.report_token_hash,
        _V.c.id.label("verdict_id"),
        _V.c.date,
        _V.c.model_version,
        _V.c.payload,
        _V.c.computed_at,
        _N.c.id.label("announced_id"),
        _N.c.model_version.label("announced_model_version"),
        _N.c.payload.label("announced_payload"),
        _N.c.computed_at.label("announced_computed_at"),
    )
    .select_from(
        _A.outerjoin(
            _V,
            (_V.c.athlete_id == _A.c.id) & _V.c.date.in_([bindparam("d0"), bindparam("d1"), bindparam("d2")]),
        ).outerjoin(_N, (_N.c.athlete_id == _A.c.id) & (_N.c.date == _V.c.date))
    )
    .where(_A.c.report_token_hash == bindparam("digest"))
)


class JoinedRow(Protocol):
    """A row of `JOINED`: a SQLAlchemy row, or the hot path's own (sync/web/hotread.py)."""

    @property
    def id(self) -> int: ...
    @property
    def timezone(self) -> str: ...
    @property
    def report_token_hash(self) -> str | None: ...
    @property
    def verdict_id(self) -> int | None: ...
    @property
    def date(self) -> date | None: ...
    @property
    def model_version(self) -> str | None: ...
    @property
    def payload(self) -> Any: ...
    @property
    def computed_at(self) -> datetime | None: ...
    @property
    def announced_id(self) -> int | None: ...
    @property
    def announced_model_version(self) -> str | None: ...
    @property
    def announced_payload(self) -> Any: ...
    @property
    def announced_computed_at(self) -> datetime | None: ...


@dataclass(frozen=True)
class Owner:
    """The athlete a token names: what the read path needs of them."""

    id: int
    timezone: str


# The owner, the day, the verdict that counts for it and the one its morning message said.
Found = tuple[Owner, date, StoredVerdict | None, StoredVerdict | None]


def query_params(token: str | None, day: date | None, now: datetime | None) -> dict[str, object] | None:
    """`JOINED`'s parameters for this token and day; None for a token that cannot be valid."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return None
    utc_today = (now or datetime.now(UTC)).date()
    dates = [day] * 3 if day else [utc_today + timedelta(days=k) for k in (-1, 0, 1)]
    return {"digest": hash_token(token), "d0": dates[0], "d1": dates[1], "d2": dates[2]}


def found_in(
    rows: Sequence[JoinedRow],
    digest: str,
    day: date | None,
    now: datetime | None,
    build: Callable[[VerdictRow], StoredVerdict] = from_row,
) -> Found | None:
    """What the joined rows say: the owner, the day, the verdict that counts (or None) and the
    announced one (or None), the typed verdicts made by `build`."""
    if not rows or not hmac.compare_digest(rows[0].report_token_hash or "", digest):
        return None
    owner = Owner(rows[0].id, rows[0].timezone)
    the_day = day or local_today(owner.timezone, now)
    of_day = [r for r in rows if r.date == the_day]
    row = counting(_verdict(r) for r in of_day)
    told = next((r for r in of_day if r.announced_id is not None), None)
    announced = build(_announced(told)) if told is not None else None
    return owner, the_day, build(row) if row is not None else None, announced


def owner_and_verdict(
    conn: Connection, token: str | None, day: date | None, now: datetime | None = None
) -> Found | None:
    """In one query: the token's owner (None when the token is not valid), the day asked for
    (`day`, or the owner's local today), the verdict that counts for that day, if any (the one
    rule of `sync.verdicts.read`, applied to the day's rows), and the one its morning message
    said, if any (`sync.verdicts.announced`)."""
    params = query_params(token, day, now)
    if params is None:
        return None
    return found_in(conn.execute(JOINED, params).all(), str(params["digest"]), day, now)


class _Columns(NamedTuple):
    """One verdict's columns out of a joined row: a verdict row, as the rule reads one."""

    id: int
    date: date
    model_version: str
    payload: Any
    computed_at: datetime


def _verdict(row: JoinedRow) -> _Columns:
    # Only rows with a verdict get here (their date matched the day), and a stored verdict's
    # columns are NOT NULL: the left join's Nones cannot reach the rule.
    if row.verdict_id is None or row.date is None or row.model_version is None or row.computed_at is None:
        raise ValueError("a joined row without a verdict")
    return _Columns(row.verdict_id, row.date, row.model_version, row.payload, row.computed_at)


def _announced(row: JoinedRow) -> _Columns:
    # Only rows with an announced id get here; its columns are NOT NULL, its date the verdict's.
    at, version = row.announced_computed_at, row.announced_model_version
    if row.announced_id is None or row.date is None or version is None or at is None:
        raise ValueError("a joined row without an announced verdict")
    return _Columns(row.announced_id, row.date, version, row.announced_payload, at)
