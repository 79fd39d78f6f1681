"""Factories for the rows tests set up by hand: athletes, Garmin accounts, activities and their
strength sets, verdicts; and the marks that run a test on one database only.

Each factory adds its row to the caller's session and flushes (so the row has its id); the
caller frames the transaction, as in the product. Athletes go through `sync.athletes.add_athlete`
(its validation and defaults). Everything else is written straight, with only what the test
names and defaults that are valid for the model; nothing here calls Garmin.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.athletes import add_athlete
from sync.config import Settings
from sync.db.models import Activity, Athlete, GarminAccount, StrengthSet, VerdictRecord
from sync.db.statuses import AccountStatus
from sync.garmin.tokens import GarthTokens, Tokens, seal
from sync.readiness import MODEL_VERSION, Flag, Prescription, Verdict

# The `db_settings` fixture (tests/conftest.py) runs every test on SQLite and PostgreSQL; these
# marks keep one of the two, for tests whose subject is one database's behaviour.
sqlite_only = pytest.mark.parametrize("db_settings", ["sqlite"], indirect=True)
postgres_only = pytest.mark.parametrize("db_settings", ["postgresql"], indirect=True)

# Tokens that look like garth's (an OAuth1 pair): for accounts whose client is never opened.
PLACEHOLDER_TOKENS = GarthTokens(oauth1={"oauth_token": "x", "oauth_token_secret": "z"})

_PRESCRIPTION_KIND: dict[Flag, Literal["run", "easy", "rest"]] = {
    Flag.RUN: "run",
    Flag.EASY: "easy",
    Flag.REST: "rest",
}


def make_athlete(
    session: Session, name: str = "ana", *, email: str | None = None, timezone: str = "UTC", **fields: Any
) -> Athlete:
    """An athlete as `legday athlete add` makes one (no email unless given, UTC by default);
    `fields` are add_athlete's other keywords (sex, max_hr, rest_hr)."""
    return add_athlete(session, name, email=email, timezone=timezone, **fields)


def make_account(
    session: Session,
    athlete: Athlete,
    settings: Settings | None = None,
    *,
    tokens: Tokens = PLACEHOLDER_TOKENS,
    status: str = AccountStatus.OK,
    **fields: Any,
) -> GarminAccount:
    """A stored Garmin account, without the profile call `add_tokens` makes.

    The tokens are sealed with `settings`' key; without settings the column holds bytes no key
    opens (for tests that never open a client). `fields`: any other column (rate_limited_until,
    last_sync_at, credential_ends_at...).
    """
    sealed = seal(settings, tokens) if settings is not None else b"-"
    account = GarminAccount(
        athlete_id=athlete.id,
        token_kind=tokens.kind,
        tokens_encrypted=sealed,
        status=status,
        backoff_s=0.0,
        **fields,
    )
    session.add(account)
    session.flush()
    return account


def make_activity(
    session: Session,
    athlete: Athlete,
    start: datetime,
    *,
    sport: str = "running",
    sub_sport: str | None = None,
    duration: timedelta = timedelta(hours=1),
    trimp: float | None = None,
    local_date: date | None = None,
    source_id: str | None = None,
    **fields: Any,
) -> Activity:
    """An activity of `duration` from `start` (UTC). Its local date is the start's UTC date unless
    given; its source id is unique per athlete, sport and start unless given."""
    activity = Activity(
        athlete_id=athlete.id,
        source_id=source_id or f"test/{sport}/{start.isoformat()}",
        session_index=0,
        sport=sport,
        sub_sport=sub_sport,
        start_utc=start,
        end_utc=start + duration,
        local_date=local_date or start.date(),
        duration_s=duration.total_seconds(),
        trimp=trimp,
        **fields,
    )
    session.add(activity)
    session.flush()
    return activity


def make_sets(
    session: Session,
    activity: Activity,
    categories: Iterable[str],
    *,
    first_index: int = 0,
    reps: int = 8,
    weight_kg: float | None = None,
    set_type: str = "active",
    muscle_groups: list[str] | None = None,
    lower_body: float = 0.0,
) -> list[StrengthSet]:
    """One strength set per category, indexed from `first_index`, as the FIT decoder stores them
    (the category is its only guess)."""
    rows = [
        StrengthSet(
            activity_id=activity.id,
            set_index=first_index + i,
            category=category,
            category_guesses=[category],
            reps=reps,
            weight_kg=weight_kg,
            set_type=set_type,
            muscle_groups=list(muscle_groups or []),
            lower_body=lower_body,
        )
        for i, category in enumerate(categories)
    ]
    session.add_all(rows)
    session.flush()
    return rows


def make_verdict(
    session: Session,
    athlete: Athlete,
    day: date,
    flag: Flag | str,
    *,
    minutes: int = 30,
    computed_at: datetime | None = None,
) -> VerdictRecord:
    """A stored verdict of the current model for (athlete, day), replacing one stored already;
    an EASY one prescribes a run of `minutes` (capped at 142 bpm, 10 minutes of warm-up).

    Only what the outputs read is filled in (flag, payload, computed_at): no reasons or numbers.
    """
    flag = Flag(flag)
    prescription: dict[str, Any] = {"max_minutes": None, "hr_cap_bpm": None, "warmup_minutes": None}
    if flag == Flag.EASY:
        prescription = {"max_minutes": minutes, "hr_cap_bpm": 142, "warmup_minutes": 10}
    row = session.scalar(
        select(VerdictRecord).where(VerdictRecord.athlete_id == athlete.id, VerdictRecord.date == day)
    )
    if row is None:
        row = VerdictRecord(athlete_id=athlete.id, date=day, model_version=MODEL_VERSION, codes=[])
        session.add(row)
    verdict = Verdict(
        flag=flag,
        day=day,
        codes=[],
        reasons=[],
        unknown=[],
        numbers={},
        prescription=Prescription(
            kind=_PRESCRIPTION_KIND[flag], run=flag != Flag.REST, summary=f"{flag} test", **prescription
        ),
        model_version=MODEL_VERSION,
    )
    row.flag, row.computed_at = flag, computed_at or datetime.now(UTC)
    row.payload = verdict.to_json_dict()
    session.flush()
    return row
