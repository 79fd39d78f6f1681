"""Dispatchers select what is due by an index, a page at a time, and never hand out a row twice.

The email dispatcher at 100,000 athletes seeded directly (one multi-row INSERT per batch):
before due times it put every candidate in one `IN (...)` list, which psycopg refuses past
65,535 parameters, so from about 65,536 athletes nobody got an email.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from sync.config import Settings
from sync.db.claim import claim_due
from sync.db.models import Athlete
from sync.db.session import engine_for, session_scope
from sync.notify.dispatch import dispatch_due_emails

NOW = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)  # past 06:30 UTC
FLEET = 100_000
DUE = 1_200  # more than two pages


def _seed(settings: Settings, n: int, due: int) -> None:
    """`n` athletes in UTC with an address; the first `due` have their send moment behind them,
    the others have theirs tomorrow."""
    tomorrow = datetime.combine(NOW.date() + timedelta(days=1), time(6, 30), tzinfo=UTC)
    rows = [
        {
            "name": f"a{i:06d}",
            "email": f"a{i:06d}@example.org",
            "timezone": "UTC",
            "send_time": time(6, 30),
            "sex": "male",
            "thresholds": {},
            "email_enabled": True,
            "push_workouts": False,
            "link_generation": 0,
            "created_at": NOW,
            "next_send_at": NOW - timedelta(minutes=30) if i < due else tomorrow,
            "next_rollover_at": tomorrow,
        }
        for i in range(n)
    ]
    engine = engine_for(settings.sqlalchemy_url)
    with engine.begin() as conn:
        for start in range(0, n, 10_000):
            conn.execute(insert(Athlete), rows[start : start + 10_000])


@pytest.mark.long
def test_the_email_dispatcher_at_100k_athletes_hands_out_only_the_due_each_once(
    db_settings: Settings,
) -> None:
    _seed(db_settings, FLEET, DUE)
    handed: list[int] = []
    summary = dispatch_due_emails(NOW, settings=db_settings, hand_off=lambda a, _at: handed.append(a))
    assert summary.queued == len(handed) == DUE and len(set(handed)) == DUE
    with session_scope(db_settings) as s:
        first = set(s.scalars(select(Athlete.id).where(Athlete.name < f"a{DUE:06d}")))
    assert set(handed) == first
    # Held for their tasks: a second tick at the same moment hands out nobody.
    again: list[int] = []
    dispatch_due_emails(NOW, settings=db_settings, hand_off=lambda a, _at: again.append(a))
    assert again == []


def _claim(session: Session, now: datetime, limit: int) -> list[int]:
    rows = claim_due(session, Athlete.next_send_at, now, now + timedelta(minutes=15), limit=limit)
    return [row[0] for row in rows]


def test_two_dispatchers_never_claim_the_same_row(db_settings: Settings) -> None:
    _seed(db_settings, 50, 30)
    if db_settings.sqlalchemy_url.startswith("sqlite"):
        # One writer at a time: the second claim comes after the first's commit.
        with session_scope(db_settings) as a:
            first = _claim(a, NOW, 20)
        with session_scope(db_settings) as b:
            second = _claim(b, NOW, 20)
    else:
        # Both transactions open at once: SKIP LOCKED gives the second the rows the first left.
        with session_scope(db_settings) as a, session_scope(db_settings) as b:
            first = _claim(a, NOW, 20)
            second = _claim(b, NOW, 20)
    assert len(first) == 20 and len(second) == 10 and not set(first) & set(second)
    with session_scope(db_settings) as c:
        assert _claim(c, NOW, 20) == []  # all 30 held
        assert len(_claim(c, NOW + timedelta(minutes=16), 100)) == 30  # the holds are over


@pytest.mark.parametrize("limit", [1, 7])
def test_a_claim_never_returns_what_is_not_due(db_settings: Settings, limit: int) -> None:
    _seed(db_settings, 10, 3)
    with session_scope(db_settings) as s:
        got = []
        while page := _claim(s, NOW, limit):
            got += page
    assert len(got) == 3
