"""The demo path: a sandbox seeded with sample FIT files, two demo athletes, real syncs.

`run_demo` exercises exactly what production runs (the clients, the importer, the database),
only pointed at the local sandbox. The demo athlete connects the official way, with a
(sandbox) Garmin Personal API key, as a new athlete will: the first thing a new user sees is
how they will connect for real. The verdict for the morning after the last session is computed
for them. The Personal API is read-only, so the workout push is shown with a second athlete,
`demo-watch`, on DI tokens (the Connect API): an EASY day becomes a workout on the sandbox
calendar. The CLI's `legday demo` prints both and writes the email on top of what it returns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import select

from sync.athletes import add_athlete
from sync.config import Settings
from sync.db.migrate import upgrade
from sync.db.models import Activity, Athlete, StrengthSet, WellnessDay
from sync.db.session import session_scope
from sync.db.tx import keep_progress
from sync.errors import ConfigError
from sync.garmin import crypto
from sync.garmin_sync import SyncOutcome, open_client, sync_account
from sync.garmin_sync.accounts import add_tokens, connect_personal_api
from sync.garmin_sync.now import account_lock
from sync.readiness import Verdict
from sync.sandbox import Sandbox
from sync.verdicts.compute import compute_verdict
from sync.workouts.push import PushResult, push_workout

DEMO_ATHLETE = "demo"
WATCH_ATHLETE = "demo-watch"  # on DI tokens: the workout push needs the Connect API
DEMO_KEY_DAYS = 365


@dataclass
class DemoActivity:
    """One synced activity, as the demo prints it."""

    local_date: date
    sport: str
    duration_min: float
    lower_body_sets: float
    garmin_sets: int


@dataclass
class DemoResult:
    """What the demo sync found."""

    athlete_id: int
    athlete_name: str
    timezone: str
    sandbox_url: str
    report: SyncOutcome
    activities: list[DemoActivity] = field(default_factory=list)
    wellness_days: int = 0
    last_activity_date: date | None = None
    day: date | None = None  # the verdict's day: the morning after the last session
    verdict: Verdict | None = None
    push: PushResult | None = None  # the workout pushed for WATCH_ATHLETE (DI tokens)
    credential: str = "personal_api"  # how the demo athlete connected
    key_ends: date | None = None  # the sandbox key's chosen expiry
    watch_athlete: str | None = None
    watch_verdict: Verdict | None = None

    @property
    def requests(self) -> int:
        """HTTP requests the sync made."""
        return self.report.requests


def _demo_settings(settings: Settings, url: str) -> Settings:
    update: dict[str, object] = {"garmin_base_url": url, "garmin_min_interval_s": 0.0}
    key_log = logging.getLogger(crypto.__name__)
    level = key_log.level
    key_log.setLevel(logging.ERROR)  # "back it up" is no advice for a throwaway demo folder's key
    try:
        crypto.resolve_key(settings)
    except ConfigError:
        # A throwaway key: the demo's sandbox tokens die with the sandbox anyway.
        update["secret_key"] = SecretStr(Fernet.generate_key().decode())
    finally:
        key_log.setLevel(level)
    return settings.model_copy(update=update)


def _athlete(session, name: str, timezone: str) -> Athlete:  # noqa: ANN001 - a Session
    athlete = session.scalar(select(Athlete).where(Athlete.name == name))
    return athlete or add_athlete(session, name, email=None, timezone=timezone)


def run_demo(settings: Settings, fit_dir: Path, *, timezone: str = "UTC") -> DemoResult:
    """Start the sandbox with `fit_dir`; connect the demo athlete with a sandbox Personal API
    key and sync; sync a second athlete on DI tokens and push its workout; stop the sandbox."""
    if settings.sqlalchemy_url.startswith("sqlite"):
        upgrade(settings)
    with Sandbox(fit_dir=fit_dir, layout="recent", timezone=timezone) as sandbox:
        demo = _demo_settings(settings, sandbox.url)
        with session_scope(demo) as session:
            athlete = _athlete(session, DEMO_ATHLETE, timezone)
            athlete.push_workouts = False  # the Personal API cannot write to the calendar
            key = sandbox.issue_personal_api_key(expires_in_days=DEMO_KEY_DAYS)
            account = connect_personal_api(session, athlete, key, DEMO_KEY_DAYS, demo)
            with account_lock(account.id, demo, wait_s=60.0):  # as every Garmin call must
                report = sync_account(
                    session,
                    account,
                    open_client(session, account, demo, checkpoint=keep_progress(session)),
                    settings=demo,
                    checkpoint=keep_progress(session),
                )
            result = DemoResult(athlete.id, athlete.name, athlete.timezone, sandbox.url, report)
            if account.credential_ends_at is not None:
                result.key_ends = account.credential_ends_at.date()
            for act in session.scalars(
                select(Activity).where(Activity.athlete_id == athlete.id).order_by(Activity.start_utc)
            ):
                sets = session.scalars(select(StrengthSet).where(StrengthSet.activity_id == act.id)).all()
                result.activities.append(
                    DemoActivity(
                        act.local_date,
                        act.sport,
                        round(act.duration_s / 60, 1),
                        sum(s.lower_body for s in sets if s.set_type == "active"),
                        sum(1 for s in sets if s.source == "garmin"),
                    )
                )
            result.wellness_days = len(
                session.scalars(select(WellnessDay.id).where(WellnessDay.athlete_id == athlete.id)).all()
            )
            result.last_activity_date = max((a.local_date for a in result.activities), default=None)
            if result.last_activity_date is not None:
                result.day = result.last_activity_date + timedelta(days=1)
                result.verdict = compute_verdict(session, athlete, result.day)
                session.commit()
                _watch_demo(session, sandbox, demo, timezone, result)
    return result


def _watch_demo(session, sandbox: Sandbox, demo: Settings, timezone: str, result: DemoResult) -> None:  # noqa: ANN001
    """The second athlete, on DI tokens: synced, its verdict computed and its workout pushed."""
    assert result.day is not None
    watcher = _athlete(session, WATCH_ATHLETE, timezone)
    watcher.push_workouts = True  # the demo shows the workout on the (sandbox) watch
    account = add_tokens(session, watcher, sandbox.issue_di_tokens(), demo)
    with account_lock(account.id, demo, wait_s=60.0):  # as every Garmin call must
        sync_account(
            session,
            account,
            open_client(session, account, demo, checkpoint=keep_progress(session)),
            settings=demo,
            checkpoint=keep_progress(session),
        )
    result.watch_athlete = watcher.name
    result.watch_verdict = compute_verdict(session, watcher, result.day)
    session.commit()
    with account_lock(account.id, demo, wait_s=60.0):
        result.push = push_workout(
            session,
            watcher,
            result.day,
            open_client(session, account, demo, checkpoint=keep_progress(session)),
            settings=demo,
            checkpoint=keep_progress(session),
        )
