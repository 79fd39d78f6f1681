"""The Garmin sync: activities (FIT downloads) and daily wellness into the database. No Celery.

`sync_account` is incremental: newest activities first, paging until they are older than the
cursor minus an overlap of a few days (late uploads land mid-list), then wellness days since
the last synced date. `backfill` walks back in date windows to a given date, persisting its
cursor after each window so an interrupted run resumes where it stopped. Every write is an
upsert on a natural key, so re-running never duplicates a row.

Request economy: one list page covers up to `garmin_page_size` activities; a FIT download per
new activity (never again for one whose FIT was quarantined for good); exerciseSets only for
strength activities, once when new and again on each incremental sync while they are inside the
overlap window (the athlete relabels sets in Connect after the watch uploads); HRV, resting HR
and body battery use range endpoints (one call per window); sleep and training readiness have
only per-day endpoints (two calls per day).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from sync.config import Settings, get_settings
from sync.db.models import (
    Activity,
    Athlete,
    GarminAccount,
    Quarantine,
    StrengthSet,
    SyncRun,
    WellnessDay,
)
from sync.db.upsert import upsert
from sync.errors import UnsafeArchiveError
from sync.fit.exercises import UNKNOWN, lower_body_weight, muscle_groups
from sync.garmin.client import GarminClient
from sync.garmin.errors import (
    GarminAuthError,
    GarminForbidden,
    GarminNotFound,
    GarminRateLimited,
    GarminUnavailable,
)
from sync.garmin.ratelimit import next_429_backoff
from sync.garmin.tokens import Tokens, seal, unseal
from sync.garmin.windows import date_windows
from sync.importer import import_fit_bytes, quarantine
from sync.sources.archive import ArchiveLimits, safe_extract_single_fit

log = logging.getLogger(__name__)

WELLNESS_WINDOW_DAYS = 28  # one HRV / body-battery range call per window
WELLNESS_OVERLAP_DAYS = 2  # last nights' values are finalised late (sleep edits, readiness)
STRENGTH_TYPES = {"strength_training"}

Progress = Callable[[str, int, int], None]  # (message, done, total)


@dataclass
class SyncReport:
    """What one sync or backfill did, for the CLI, the worker and the sync_run row."""

    athlete: str
    kind: str = "sync"
    # ok | partial | rate_limited | needs_reauth | unavailable | interrupted | failed
    status: str = "ok"
    message: str | None = None
    requests: int = 0
    activities_seen: int = 0
    activities_imported: int = 0
    activities_known: int = 0
    activities_quarantined: int = 0
    garmin_sets: int = 0
    wellness_days: int = 0
    retry_after_s: float | None = None
    failures: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """A JSON-able dict (stored in sync_run.summary)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("athlete",)}


def open_client(
    session: Session, account: GarminAccount, settings: Settings | None = None, **kwargs: Any
) -> GarminClient:
    """A client for a stored account; refreshed tokens are sealed and committed at once.

    DI refresh tokens rotate (the old one dies), so a refresh must reach the database even if
    the rest of the sync fails later: hence the immediate commit.
    """
    settings = settings or get_settings()
    tokens = unseal(settings, account.token_kind, account.tokens_encrypted)

    def save(new: Tokens) -> None:
        account.tokens_encrypted = seal(settings, new)
        session.commit()
        log.info("garmin: refreshed %s token saved for account %s", new.kind, account.id)

    return GarminClient(tokens, settings, on_refresh=save, **kwargs)


def _parse_gmt(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def _parse_dto_utc(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.split(".")[0]).replace(tzinfo=UTC)
    except ValueError:
        return None


class _Run:
    """State shared by the steps of one sync (report, settings, athlete, client)."""

    def __init__(
        self,
        session: Session,
        account: GarminAccount,
        client: GarminClient,
        settings: Settings,
        report: SyncReport,
        progress: Progress | None,
    ) -> None:
        self.session = session
        self.account = account
        self.athlete: Athlete = account.athlete
        self.client = client
        self.settings = settings
        self.report = report
        self.progress = progress
        self.tz = ZoneInfo(self.athlete.timezone)
        self.limits = ArchiveLimits(
            max_member_bytes=settings.max_fit_bytes,
            max_total_bytes=settings.max_zip_total_bytes,
            max_ratio=settings.max_zip_ratio,
        )

    # -- activities --------------------------------------------------------------------------

    def _known_ids(self, garmin_id: int) -> list[int]:
        return list(
            self.session.scalars(
                select(Activity.id).where(
                    Activity.athlete_id == self.athlete.id, Activity.garmin_activity_id == garmin_id
                )
            )
        )

    def _has_garmin_sets(self, activity_ids: list[int]) -> bool:
        return (
            self.session.scalar(
                select(StrengthSet.id)
                .where(StrengthSet.activity_id.in_(activity_ids), StrengthSet.source == "garmin")
                .limit(1)
            )
            is not None
        )

    def _quarantined_for_good(self, garmin_id: int) -> bool:
        # Only permanent failures carry the Garmin id (see _mark_quarantined).
        return (
            self.session.scalar(
                select(Quarantine.id)
                .where(Quarantine.athlete_id == self.athlete.id, Quarantine.garmin_activity_id == garmin_id)
                .limit(1)
            )
            is not None
        )

    def _mark_quarantined(self, sha256: str | None, garmin_id: int) -> None:
        """Tie a permanent quarantine record to its Garmin activity, so it is not fetched again.

        The importer (which writes the record) knows nothing of Garmin: the row is found by
        its content hash, in the same transaction.
        """
        if sha256 is None:
            return
        self.session.execute(
            update(Quarantine)
            .where(Quarantine.athlete_id == self.athlete.id, Quarantine.sha256 == sha256)
            .values(garmin_activity_id=garmin_id)
        )

    def ingest_item(self, item: dict[str, Any], *, refresh_sets: bool = False) -> bool:
        """Download, import and correct one listed activity. False: retry it next sync.

        `refresh_sets`: fetch Garmin's exerciseSets again for an already-known strength
        activity (labels the athlete changed in Connect since the last sync).
        """
        self.report.activities_seen += 1
        garmin_id = int(item["activityId"])
        type_key = ((item.get("activityType") or {}).get("typeKey") or "").lower()
        strength = type_key in STRENGTH_TYPES or bool(item.get("summarizedExerciseSets"))
        activity_ids = self._known_ids(garmin_id)
        if activity_ids:
            self.report.activities_known += 1
            if strength and (refresh_sets or not self._has_garmin_sets(activity_ids)):
                self.apply_garmin_sets(garmin_id, activity_ids)
            return True
        if self._quarantined_for_good(garmin_id):
            # The same bytes would fail the same way: do not download them on every sync.
            log.debug("garmin: activity %s was quarantined for good; not downloaded again", garmin_id)
            return True
        name = f"{garmin_id}.zip"
        try:
            blob = self.client.download_fit_zip(garmin_id)
        except (GarminNotFound, GarminForbidden) as exc:
            self.report.failures.append(f"{garmin_id}: {exc}")
            return True  # deleted or not ours: nothing to retry
        except UnsafeArchiveError as exc:
            held = quarantine(
                self.session,
                self.athlete,
                name=name,
                source="garmin",
                reason=exc.reason,
                settings=self.settings,
            )
            self.report.activities_quarantined += 1
            self.report.failures.append(f"{garmin_id}: {exc.reason}")
            if exc.retryable:
                return False
            self._mark_quarantined(held.sha256, garmin_id)
            return True
        try:
            member, fit = safe_extract_single_fit(blob, self.limits)
        except UnsafeArchiveError as exc:
            held = quarantine(
                self.session,
                self.athlete,
                name=name,
                source="garmin",
                reason=exc.reason,
                data=blob,
                settings=self.settings,
            )
            self.report.activities_quarantined += 1
            self.report.failures.append(f"{garmin_id}: {exc.reason}")
            if exc.retryable:  # a download cut short: the next sync fetches it again
                return False
            self._mark_quarantined(held.sha256, garmin_id)  # hostile ZIP: refused for good
            return True
        outcome = import_fit_bytes(
            self.session,
            self.athlete,
            fit,
            source="garmin",
            name=member,
            garmin_activity_id=garmin_id,
            settings=self.settings,
        )
        if outcome.status == "quarantined":
            self.report.activities_quarantined += 1
            self.report.failures.append(f"{garmin_id}: {outcome.reason}")
            self._mark_quarantined(outcome.sha256, garmin_id)
            return True  # the FIT itself is bad; a new download would be the same bytes
        if outcome.status == "known":
            # Same bytes came in before (e.g. a folder import): link them to this Garmin id.
            self.session.execute(
                update(Activity)
                .where(Activity.raw_file_id == outcome.raw_file_id, Activity.garmin_activity_id.is_(None))
                .values(garmin_activity_id=garmin_id)
            )
            self.report.activities_known += 1
        else:
            self.report.activities_imported += 1
        activity_ids = self._known_ids(garmin_id)
        if strength and activity_ids:
            self.apply_garmin_sets(garmin_id, activity_ids)
        return True

    def apply_garmin_sets(self, garmin_id: int, activity_ids: list[int]) -> None:
        """Replace the FIT's guesses with Garmin's exerciseSets (the athlete's corrections).

        Garmin's list is the whole truth for the activity: a stored set it no longer lists
        (deleted in Connect) is removed, in the same transaction as the upserts.
        """
        sets = self.client.exercise_sets(garmin_id)
        if not sets:
            return  # no list (or "no data"): keep the FIT's sets rather than erase them
        activities = self.session.scalars(
            select(Activity).where(Activity.id.in_(activity_ids)).order_by(Activity.session_index)
        ).all()
        existing = dict(
            self.session.execute(
                select(StrengthSet.set_index, StrengthSet.activity_id).where(
                    StrengthSet.activity_id.in_(activity_ids)
                )
            ).all()
        )
        default = next(
            (a.id for a in activities if a.sport in ("training", "strength_training")), activities[0].id
        )
        listed: set[int] = set()
        for position, item in enumerate(sets):
            index = item.get("messageIndex")
            index = position if index is None else int(index)
            listed.add(index)
            active = str(item.get("setType", "")).upper() == "ACTIVE"
            guesses = sorted(item.get("exercises") or [], key=lambda e: -(e.get("probability") or 0))
            best = guesses[0] if guesses else {}
            category = str(best.get("category") or UNKNOWN).lower()
            exercise = str(best["name"]).lower() if best.get("name") else None
            grams = item.get("weight")
            weight_kg = (
                (grams / 1000.0 if grams > 0 else 0.0 if grams == 0 else None)
                if isinstance(grams, int | float)
                else None
            )
            upsert(
                self.session,
                StrengthSet,
                {
                    "activity_id": existing.get(index, default),
                    "set_index": index,
                    "start_utc": _parse_dto_utc(item.get("startTime")),
                    "category": category,
                    "category_guesses": [str(g.get("category") or UNKNOWN).lower() for g in guesses],
                    "exercise": exercise,
                    "reps": item.get("repetitionCount"),
                    "weight_kg": weight_kg,
                    "duration_s": item.get("duration"),
                    "set_type": "active" if active else "rest",
                    "muscle_groups": list(muscle_groups(category, exercise)) if active else [],
                    "lower_body": lower_body_weight(category) if active else 0.0,
                    "source": "garmin",
                },
                ["activity_id", "set_index"],
            )
            self.report.garmin_sets += 1
        # Both sources: a set deleted in Connect after an earlier sync left a "garmin" row too.
        self.session.execute(
            delete(StrengthSet)
            .where(
                StrengthSet.activity_id.in_(activity_ids),
                StrengthSet.source.in_(("fit", "garmin")),
                StrengthSet.set_index.not_in(listed),
            )
            .execution_options(synchronize_session=False)
        )

    def fill_heart_rate_profile(self) -> None:
        """Take max and resting HR from Garmin's HR zones when the athlete has not set them.

        TRIMP and the EASY heart-rate cap need both; one request, only while they are missing.
        """
        if self.athlete.max_hr is not None and self.athlete.rest_hr is not None:
            return
        zones = self.client.heart_rate_zones()
        chosen = next((z for z in zones if z.get("sport") == "RUNNING"), None) or next(
            (z for z in zones if z.get("sport") == "DEFAULT"), None
        )
        if not chosen:
            return
        max_hr, rest_hr = chosen.get("maxHeartRateUsed"), chosen.get("restingHeartRateUsed")
        if (
            isinstance(max_hr, int)
            and isinstance(rest_hr, int)
            and 100 <= max_hr <= 240
            and 25 <= rest_hr < max_hr
        ):
            self.athlete.max_hr = self.athlete.max_hr or max_hr
            self.athlete.rest_hr = self.athlete.rest_hr or rest_hr

    def sync_activities(self, now: datetime) -> None:
        """Incremental: newest first until older than cursor - overlap."""
        cursor = self.account.activity_cursor
        if cursor is not None:
            cutoff = cursor - timedelta(days=self.settings.garmin_overlap_days)
        else:
            cutoff = now - timedelta(days=self.settings.garmin_initial_days)
        size = self.settings.garmin_page_size
        newest: datetime | None = None
        retry_from: datetime | None = None
        start = 0
        while True:
            page = self.client.activities(start, size)
            older = False
            for item in page:
                started = _parse_gmt(item["startTimeGMT"])
                if started < cutoff:
                    older = True
                    break
                # Past the first sync every listed item is inside the overlap window, where
                # the athlete may still be relabelling sets in Connect: read them again.
                if self.ingest_item(item, refresh_sets=cursor is not None):
                    newest = max(newest or started, started)
                else:
                    retry_from = min(retry_from or started, started)
            if older or len(page) < size:
                break
            start += size
        # Never move the cursor past an activity that must be retried.
        if retry_from is not None:
            self.account.activity_cursor = min(cursor or retry_from, retry_from - timedelta(seconds=1))
            self.report.status = "partial"
        elif newest is not None and (cursor is None or newest > cursor):
            self.account.activity_cursor = newest

    def backfill_activities(self, lo: date, hi: date) -> bool:
        """Every activity with a local start date in [lo, hi]. False if one must be retried."""
        size = self.settings.garmin_page_size
        ok = True
        start = 0
        while True:
            page = self.client.activities(start, size, start_date=lo, end_date=hi)
            for item in page:
                ok = self.ingest_item(item) and ok
            if len(page) < size:
                return ok
            start += size

    # -- wellness ----------------------------------------------------------------------------

    def sync_wellness_window(self, lo: date, hi: date) -> None:
        """Upsert WellnessDay rows for [lo, hi] (athlete-local dates)."""
        c = self.client
        hrv = {s.get("calendarDate"): s for s in c.hrv_range(lo, hi)}
        rhr = c.resting_hr_range(lo, hi)
        battery: dict[str, int] = {}
        for report in c.body_battery_reports(lo, hi):
            levels = [
                v[1]
                for v in report.get("bodyBatteryValuesArray") or []
                if isinstance(v, list) and len(v) > 1 and isinstance(v[1], int | float)
            ]
            if levels and report.get("date"):
                battery[str(report["date"])] = int(max(levels))
        day = lo
        while day <= hi:
            key = day.isoformat()
            values: dict[str, Any] = {}
            summary = hrv.get(key) or {}
            values["hrv_last_night_ms"] = summary.get("lastNightAvg")
            values["hrv_weekly_avg_ms"] = summary.get("weeklyAvg")
            values["hrv_status"] = summary.get("status")
            sleep = c.sleep_day(day)
            dto = (sleep or {}).get("dailySleepDTO") or {}
            values["sleep_seconds"] = dto.get("sleepTimeSeconds")
            values["sleep_score"] = ((dto.get("sleepScores") or {}).get("overall") or {}).get("value")
            values["resting_hr"] = rhr.get(key, (sleep or {}).get("restingHeartRate"))
            values["body_battery"] = battery.get(key)
            snapshots = c.training_readiness(day)
            if snapshots:
                # The morning value: the wake-up reset, else the day's earliest snapshot.
                morning = next(
                    (s for s in snapshots if s.get("inputContext") == "AFTER_WAKEUP_RESET"), snapshots[-1]
                )
                values["training_readiness"] = morning.get("score")
                minutes = morning.get("recoveryTime")
                values["recovery_time_h"] = round(minutes / 60.0, 2) if minutes is not None else None
            present = {k: v for k, v in values.items() if v is not None}
            if present:  # only known values: a later "no data" never erases a stored one
                upsert(
                    self.session,
                    WellnessDay,
                    {"athlete_id": self.athlete.id, "date": day, **present},
                    ["athlete_id", "date"],
                )
                self.report.wellness_days += 1
            day += timedelta(days=1)

    def sync_wellness(self, today: date) -> None:
        """From the last synced day (minus an overlap) through today."""
        cursor = self.account.wellness_cursor
        if cursor is not None:
            start = cursor - timedelta(days=WELLNESS_OVERLAP_DAYS)
        else:
            start = today - timedelta(days=self.settings.garmin_initial_days)
        windows = date_windows(start, today, WELLNESS_WINDOW_DAYS)
        for i, (lo, hi) in enumerate(windows):
            self.sync_wellness_window(lo, hi)
            self.account.wellness_cursor = hi
            self.session.commit()
            if self.progress:
                self.progress(f"wellness to {hi}", i + 1, len(windows))


def _guarded(
    session: Session,
    account: GarminAccount,
    client: GarminClient,
    report: SyncReport,
    settings: Settings,
    body: Callable[[], None],
    now: datetime | None = None,
) -> SyncReport:
    """Run `body` and map Garmin errors onto account state; record a sync_run row.

    Anything else that escapes `body` (Ctrl-C, a bug, a lost database) is recorded as
    `interrupted` / `failed` and raised again: a run that stopped half-way must never be
    stored as "ok". `now` stands in for the clock when deciding whether a 429 wait is over.
    """
    started = datetime.now(UTC)
    moment = now or started
    before = client.requests
    if account.status == "needs_reauth":
        report.status, report.message = "needs_reauth", account.status_reason or "tokens rejected"
        return report
    if account.rate_limited_until is not None and account.rate_limited_until > moment:
        report.status = "rate_limited"
        report.retry_after_s = (account.rate_limited_until - moment).total_seconds()
        report.message = f"rate limited until {account.rate_limited_until.isoformat()}"
        return report
    # The run commits as it goes; start from a clean transaction so that a run that aborts
    # rolls back only its own unfinished work, never the caller's (e.g. a just-added account).
    session.commit()
    try:
        if not account.display_name:
            account.display_name = client.profile().get("displayName")
        client.display_name = account.display_name
        body()
        account.status, account.status_reason, account.backoff_s = "ok", None, 0.0
        account.rate_limited_until = None
    except GarminRateLimited as exc:
        wait = next_429_backoff(
            account.backoff_s or 0.0,
            exc.retry_after if exc.from_header else None,
            base_s=settings.garmin_429_backoff_s,
            cap_s=settings.garmin_429_backoff_max_s,
        )
        account.backoff_s = wait
        account.rate_limited_until = (now or datetime.now(UTC)) + timedelta(seconds=wait)
        account.status, account.status_reason = "rate_limited", str(exc)
        report.status, report.message, report.retry_after_s = "rate_limited", str(exc), wait
    except GarminAuthError as exc:
        account.status, account.status_reason = "needs_reauth", str(exc)
        report.status, report.message = "needs_reauth", str(exc)
    except GarminUnavailable as exc:
        report.status, report.message = "unavailable", str(exc)
    except KeyboardInterrupt:
        report.status, report.message = "interrupted", "interrupted; run it again to resume"
        raise
    except Exception as exc:
        report.status, report.message = "failed", f"{type(exc).__name__}: {exc}"[:500]
        raise
    finally:
        _record_run(session, account, client, report, started, before)
    return report


def _record_run(
    session: Session,
    account: GarminAccount,
    client: GarminClient,
    report: SyncReport,
    started: datetime,
    requests_before: int,
) -> None:
    """Store the sync_run row (and last_sync_at) however the run ended."""
    report.requests = client.requests - requests_before
    aborted = report.status in ("interrupted", "failed")
    try:
        if aborted:
            # The session may hold half a window or a failed flush: drop it. Committed
            # windows (and refreshed tokens) stay; the rest is redone on the next run.
            session.rollback()
        account.last_sync_at = datetime.now(UTC)
        session.add(
            SyncRun(
                athlete_id=account.athlete_id,
                kind=report.kind,
                started_at=started,
                finished_at=datetime.now(UTC),
                status=report.status,
                requests=report.requests,
                summary=report.summary(),
            )
        )
        session.commit()
    except Exception:
        if not aborted:
            raise
        # Already on the way out with the real error: do not let this one replace it.
        log.exception("garmin: could not record the %s %s run", report.status, report.kind)
        session.rollback()


def sync_account(
    session: Session,
    account: GarminAccount,
    client: GarminClient,
    *,
    settings: Settings | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> SyncReport:
    """Incremental sync of one account: new activities, then wellness days through today."""
    settings = settings or get_settings()
    report = SyncReport(athlete=account.athlete.name, kind="sync")
    run = _Run(session, account, client, settings, report, progress)

    def body() -> None:
        moment = now or datetime.now(UTC)
        run.fill_heart_rate_profile()
        run.sync_activities(moment)
        session.commit()
        run.sync_wellness(moment.astimezone(run.tz).date())

    return _guarded(session, account, client, report, settings, body, now)


def backfill(
    session: Session,
    account: GarminAccount,
    client: GarminClient,
    since: date,
    *,
    settings: Settings | None = None,
    today: date | None = None,
    progress: Progress | None = None,
) -> SyncReport:
    """Activities and wellness from the backfill cursor (or today) back to `since`, resumable."""
    settings = settings or get_settings()
    report = SyncReport(athlete=account.athlete.name, kind="backfill")
    run = _Run(session, account, client, settings, report, progress)

    def body() -> None:
        top = today or datetime.now(run.tz).date()
        if account.backfill_cursor is not None:
            top = min(top, account.backfill_cursor - timedelta(days=1))
        windows = list(reversed(date_windows(since, top, WELLNESS_WINDOW_DAYS)))
        for i, (lo, hi) in enumerate(windows):
            if not run.backfill_activities(lo, hi):
                report.status = "partial"
                report.message = f"a download between {lo} and {hi} failed; run backfill again"
                return  # the cursor stays above this window: it is redone next time
            run.sync_wellness_window(lo, hi)
            account.backfill_cursor = lo
            session.commit()  # the resume point
            if progress:
                progress(f"{lo} .. {hi}", i + 1, len(windows))

    return _guarded(session, account, client, report, settings, body)
