"""When an account is due for a sync: a cheap activity check often, wellness around the morning.

The one place that answers "which sync is due", for the worker's dispatcher
(`claim_due_syncs`, on the indexed `garmin_account.next_sync_at` that every run sets through
`reschedule`) and `legday status` (`status_rows`). The slot arithmetic at the top is pure (the
clock, the athlete's time zone and send time); the queries are below it.

The night's HRV and sleep exist once the athlete is up, so the full sync (wellness too) runs at
two local moments a day: after the usual wake time (`wake_time`) and `wellness_lead_min` minutes
before the send time, so the morning email uses last night's values. In between, only the
activity list is checked (one request when nothing is new) every `activity_check_interval_s`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, overload

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sync.config import Settings, get_settings
from sync.db.claim import PAGE, claim_due
from sync.db.models import Athlete, GarminAccount, SyncRun
from sync.db.statuses import AccountStatus, SyncRunStatus
from sync.scheduling import local_moment, local_today


def wellness_slots(day: date, timezone: str, send_time: time, settings: Settings) -> list[datetime]:
    """The (aware) moments of `day` at which the full sync is due, earliest first."""
    wake = local_moment(day, settings.wake_time, timezone)
    before_send = local_moment(day, send_time, timezone) - timedelta(minutes=settings.wellness_lead_min)
    return sorted({wake, max(wake, before_send)})


def latest_slot(now: datetime, timezone: str, send_time: time, settings: Settings) -> datetime:
    """The last wellness moment at or before `now` (today's or yesterday's)."""
    today = local_today(timezone, now)
    slots = [
        s
        for day in (today - timedelta(days=1), today)
        for s in wellness_slots(day, timezone, send_time, settings)
        if s <= now
    ]
    return max(slots)


def next_slot(now: datetime, timezone: str, send_time: time, settings: Settings) -> datetime:
    """The first wellness moment after `now`."""
    today = local_today(timezone, now)
    return min(
        s
        for day in (today, today + timedelta(days=1))
        for s in wellness_slots(day, timezone, send_time, settings)
        if s > now
    )


def wellness_due(
    last_full: datetime | None, now: datetime, timezone: str, send_time: time, settings: Settings
) -> bool:
    """Whether a full sync is owed: none yet, or none since the latest wellness moment."""
    return last_full is None or last_full < latest_slot(now, timezone, send_time, settings)


def next_due(
    last_check: datetime | None,
    last_full: datetime | None,
    now: datetime,
    timezone: str,
    send_time: time,
    settings: Settings,
) -> datetime:
    """When the account's next sync of either kind is due (`now` if overdue)."""
    if last_check is None or wellness_due(last_full, now, timezone, send_time, settings):
        return now
    check = last_check + timedelta(seconds=settings.activity_check_interval_s)
    return max(now, min(check, next_slot(now, timezone, send_time, settings)))


# -- what the dispatcher queues --------------------------------------------------------------

WELLNESS_RETRY_S = 900.0  # a wellness moment a run could not serve is tried again this soon


def reschedule(account: GarminAccount, moment: datetime, settings: Settings, *, wellness_done: bool) -> None:
    """Store when the account is due next, after a run at `moment` (every run kind calls it).

    The activity check comes `activity_check_interval_s` later; the wellness moment owed moves
    to the next one once this run served it (`wellness_done`), else it is tried again within
    `WELLNESS_RETRY_S`. A rate limit pushes the next sync past its wait; an account that needs
    new tokens gets none until they come (`add_tokens` makes it due at once).
    """
    if account.status == AccountStatus.NEEDS_REAUTH:
        account.next_sync_at = None
        return
    athlete = account.athlete
    owed = _aware(account.next_wellness_at)
    if wellness_done or owed is None:
        owed = next_slot(moment, athlete.timezone, athlete.send_time, settings)
        account.next_wellness_at = owed
    check = moment + timedelta(seconds=settings.activity_check_interval_s)
    if owed <= moment:  # still owed: soon, not at the next check hours later
        owed = moment + timedelta(seconds=min(WELLNESS_RETRY_S, settings.activity_check_interval_s))
    due = min(check, owed)
    until = _aware(account.rate_limited_until)
    if until is not None and until > due:
        due = until
    account.next_sync_at = due


def serve_wellness_moment(account: GarminAccount, moment: datetime, settings: Settings) -> datetime:
    """The wellness moment owed is served without a fetch (last night is stored already);
    returns the next one, now owed."""
    athlete = account.athlete
    owed = next_slot(moment, athlete.timezone, athlete.send_time, settings)
    account.next_wellness_at = owed
    return owed


def hold_s(settings: Settings) -> float:
    """How long a claimed account waits for its queued sync (the task expires with it)."""
    return float(settings.visibility_timeout_s)


def claim_due_syncs(
    session: Session, settings: Settings, now: datetime, *, limit: int = PAGE
) -> list[tuple[int, bool]]:
    """(account id, wellness?) of up to `limit` accounts due at `now`, claimed (see sync/db/claim.py).

    Indexed on `next_sync_at`: the cost is the accounts due, not the fleet. An account is due
    for wellness when the wellness moment it owes has come; otherwise for the activity check.
    The caller commits, then queues each with `expires=hold_s(settings)`.
    """
    hold_until = now + timedelta(seconds=hold_s(settings))
    rows = claim_due(
        session,
        GarminAccount.next_sync_at,
        now,
        hold_until,
        limit=limit,
        extra=(GarminAccount.next_wellness_at,),
    )
    return [(account_id, owed is None or _aware(owed) <= now) for account_id, owed in rows]


def queue_due_syncs(
    now: datetime, hand_off: Callable[[int, bool], None], *, settings: Settings | None = None
) -> int:
    """Claim the accounts due at `now`, page by page (each committed before its hand-offs), and
    `hand_off(account_id, wellness)` each; returns how many. The dispatcher's entry point."""
    from sync.db.session import session_scope

    settings = settings or get_settings()
    queued = 0
    while True:
        with session_scope(settings) as session:
            page = claim_due_syncs(session, settings, now)
        for account_id, wellness in page:
            hand_off(account_id, wellness)
        queued += len(page)
        if len(page) < PAGE:
            return queued


# -- what `legday status` shows ---------------------------------------------------------------


def _last_runs(session: Session, *kinds: str) -> dict[int, datetime]:
    """Per athlete, when the last fully successful run of these kinds started."""
    rows = session.execute(
        select(SyncRun.athlete_id, func.max(SyncRun.started_at))
        .where(SyncRun.kind.in_(kinds), SyncRun.status == SyncRunStatus.OK)
        .group_by(SyncRun.athlete_id)
    )
    # Runs of no athlete form a NULL group of their own: they are no athlete's last success.
    return {athlete_id: moment for athlete_id, moment in rows if athlete_id is not None}


@overload
def _aware(moment: datetime) -> datetime: ...
@overload
def _aware(moment: None) -> None: ...
def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def status_rows(session: Session, settings: Settings, now: datetime) -> list[dict[str, Any]]:
    """One dict per Garmin account (by athlete name): last success, next due, rate-limit wait,
    re-auth need, credential end; `legday status --json` prints them as they are."""
    from sync.credential_end import days_left

    any_ok = _last_runs(session, "sync", "check", "backfill")
    full_ok = _last_runs(session, "sync", "backfill")
    query = select(GarminAccount, Athlete).join(Athlete, Athlete.id == GarminAccount.athlete_id)
    out: list[dict[str, Any]] = []
    for account, who in session.execute(query.order_by(Athlete.name)):
        last_ok = _aware(any_ok.get(who.id))
        last_full = _aware(full_ok.get(who.id))
        until = _aware(account.rate_limited_until)
        wait = max(0.0, (until - now).total_seconds()) if until else 0.0
        reauth = account.status == AccountStatus.NEEDS_REAUTH
        due = None
        if not reauth:
            due = next_due(
                _aware(account.last_sync_at), last_full, now, who.timezone, who.send_time, settings
            )
            if until and until > due:
                due = until
        ends = _aware(account.credential_ends_at)
        out.append(
            {
                "athlete": who.name,
                "account_id": account.id,
                "status": account.status,
                "last_success": last_ok.isoformat() if last_ok else None,
                "last_wellness": last_full.isoformat() if last_full else None,
                "next_due": due.isoformat() if due else None,
                "rate_limit_wait_s": round(wait),
                "needs_reauth": reauth,
                "credential_kind": account.token_kind,
                "credential_ends_at": ends.isoformat() if ends else None,
                "credential_days_left": days_left(account.credential_ends_at, who.timezone, now)
                if account.credential_ends_at
                else None,
            }
        )
    return out
