"""When an account is due for a sync: a cheap activity check often, wellness around the morning.

The one place that answers "which sync is due", for the worker's dispatcher (`due_syncs`, with
its dedup marks `DueMarks`) and `legday status` (`status_rows`). The slot arithmetic at the top
is pure (the clock, the athlete's time zone and send time); the queries are below it.

The night's HRV and sleep exist once the athlete is up, so the full sync (wellness too) runs at
two local moments a day: after the usual wake time (`wake_time`) and `wellness_lead_min` minutes
before the send time, so the morning email uses last night's values. In between, only the
activity list is checked (one request when nothing is new) every `activity_check_interval_s`.
"""

from __future__ import annotations

import hashlib
import time as clock
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, overload

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from sync.config import Settings
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


@dataclass(frozen=True)
class DueSync:
    """One reason to sync an account now, with the dedup mark that queues it at most once."""

    account_id: int
    wellness: bool  # False: the cheap activity check
    mark: str
    mark_ttl_s: int


def due_syncs(session: Session, settings: Settings, now: datetime) -> list[DueSync]:
    """The syncs due at `now` (an account may appear twice: its wellness moment and its check).

    Accounts that need new tokens, or whose 429 wait is not over, are left out.
    """
    rows = session.execute(
        select(GarminAccount.id, GarminAccount.last_sync_at, Athlete.timezone, Athlete.send_time)
        .join(Athlete, Athlete.id == GarminAccount.athlete_id)
        .where(
            GarminAccount.status != AccountStatus.NEEDS_REAUTH,
            or_(GarminAccount.rate_limited_until.is_(None), GarminAccount.rate_limited_until <= now),
        )
    ).all()
    interval = int(settings.activity_check_interval_s)
    out: list[DueSync] = []
    for account_id, last_sync_at, timezone, send_time in rows:
        if last_sync_at is None:  # new: at once, wellness included; again only if it got lost
            out.append(DueSync(account_id, True, f"new:{account_id}", settings.visibility_timeout_s))
        # Once per wellness moment: the moment's mark (kept two days) says whether it was queued
        # (a new account's first sync claims it too, so it is not fetched twice in a row).
        slot = latest_slot(now, timezone, send_time, settings)
        out.append(DueSync(account_id, True, f"full:{account_id}:{int(slot.timestamp())}", 2 * 86400))
        if last_sync_at is None:
            continue
        if _aware(last_sync_at) + timedelta(seconds=interval) <= now:
            out.append(DueSync(account_id, False, f"check:{account_id}", interval))
    return out


class DueMarks:
    """The dispatcher's marks of what it queued: SET NX in Redis, else an in-process dict.

    The dict (the embedded, eager mode: one process) belongs to the instance, so a caller that
    needs the marks to last keeps one `DueMarks` (the worker keeps one per process).
    """

    def __init__(self, settings: Settings) -> None:
        self.url = settings.redis_url
        self.ns = hashlib.sha256(settings.sqlalchemy_url.encode()).hexdigest()[:8]
        self._local: dict[str, float] = {}

    def claim(self, keys: list[tuple[str, int]]) -> list[bool]:
        """For each (key, ttl_s): True when the mark was free and is now set."""
        full = [(f"legday:due:{self.ns}:{key}", ttl) for key, ttl in keys]
        if not self.url:
            now = clock.monotonic()
            out = []
            for key, ttl in full:
                free = self._local.get(key, 0.0) <= now
                if free:
                    self._local[key] = now + ttl
                out.append(free)
            return out
        import redis

        client = redis.Redis.from_url(self.url)
        try:
            pipe = client.pipeline(transaction=False)
            for key, ttl in full:
                pipe.set(key, b"1", nx=True, ex=max(1, int(ttl)))
            return [bool(r) for r in pipe.execute()]
        finally:
            client.close()


def claim_due(
    session: Session, settings: Settings, now: datetime, marks: DueMarks
) -> tuple[list[tuple[int, bool]], int]:
    """The (account id, wellness?) syncs to queue now, and how many accounts were considered.

    Each due item whose mark was free, one per account (its first claimed reason), so a doubled
    tick queues nothing twice."""
    candidates = due_syncs(session, settings, now)
    claimed = marks.claim([(c.mark, c.mark_ttl_s) for c in candidates])
    out: dict[int, bool] = {}
    for candidate, fresh in zip(candidates, claimed, strict=True):
        if fresh and candidate.account_id not in out:
            out[candidate.account_id] = candidate.wellness
    return list(out.items()), len({c.account_id for c in candidates})


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
