"""Activities: list paging, FIT download and import, quarantine bookkeeping, Garmin ids."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select, update

from sync.db.models import Activity, Quarantine
from sync.db.statuses import SyncRunStatus
from sync.errors import UnsafeArchiveError
from sync.garmin.errors import GarminForbidden, GarminNotFound
from sync.garmin.records import ActivitySummary, UnreadableActivity
from sync.garmin_sync.context import RunContext
from sync.garmin_sync.exercise_sets import apply_garmin_sets, has_garmin_sets
from sync.ingest.archive import safe_extract_single_fit
from sync.ingest.importer import import_fit_bytes, quarantine

log = logging.getLogger(__name__)

STRENGTH_TYPES = {"strength_training"}


def _known_ids(run: RunContext, garmin_id: int) -> list[int]:
    return list(
        run.session.scalars(
            select(Activity.id).where(
                Activity.athlete_id == run.athlete.id, Activity.garmin_activity_id == garmin_id
            )
        )
    )


def _quarantined_for_good(run: RunContext, garmin_id: int) -> bool:
    # Only permanent failures carry the Garmin id (see _mark_quarantined).
    return (
        run.session.scalar(
            select(Quarantine.id)
            .where(Quarantine.athlete_id == run.athlete.id, Quarantine.garmin_activity_id == garmin_id)
            .limit(1)
        )
        is not None
    )


def _mark_quarantined(run: RunContext, sha256: str | None, garmin_id: int) -> None:
    """Tie a permanent quarantine record to its Garmin activity, so it is not fetched again.

    The importer (which writes the record) knows nothing of Garmin: the row is found by
    its content hash, in the same transaction.
    """
    if sha256 is None:
        return
    run.session.execute(
        update(Quarantine)
        .where(Quarantine.athlete_id == run.athlete.id, Quarantine.sha256 == sha256)
        .values(garmin_activity_id=garmin_id)
    )


def _hold_unsafe(
    run: RunContext, garmin_id: int, name: str, exc: UnsafeArchiveError, data: bytes | None = None
) -> bool:
    """Quarantine a download refused as unsafe. False: fetch it again next sync."""
    held = quarantine(
        run.session,
        run.athlete,
        name=name,
        source="garmin",
        reason=exc.reason,
        data=data,
        settings=run.settings,
    )
    run.report.activities_quarantined += 1
    run.report.failures.append(f"{garmin_id}: {exc.reason}")
    if exc.retryable:  # e.g. a download cut short: the next sync fetches it again
        return False
    _mark_quarantined(run, held.sha256, garmin_id)  # e.g. a hostile ZIP: refused for good
    return True


def skip_unreadable(run: RunContext, item: UnreadableActivity) -> None:
    """Count and name a list row that cannot be read; the rest of the page goes on."""
    run.report.activities_seen += 1
    run.report.activities_skipped += 1
    run.report.failures.append(f"{item.activity_id or '?'}: {item.reason}, skipped")
    log.warning("garmin: activity %s: %s", item.activity_id, item.reason)


def ingest_item(run: RunContext, item: ActivitySummary, *, refresh_sets: bool = False) -> bool:
    """Download, import and correct one listed activity. False: retry it next sync.

    `refresh_sets`: fetch Garmin's exerciseSets again for an already-known strength
    activity (labels the athlete changed in Connect since the last sync).
    """
    report = run.report
    report.activities_seen += 1
    garmin_id = item.activity_id
    strength = item.type_key in STRENGTH_TYPES or item.has_exercise_sets
    activity_ids = _known_ids(run, garmin_id)
    if activity_ids:
        report.activities_known += 1
        if strength and (refresh_sets or not has_garmin_sets(run, activity_ids)):
            apply_garmin_sets(run, garmin_id, activity_ids)
        return True
    name = f"{garmin_id}.zip"
    if _quarantined_for_good(run, garmin_id):
        # The same bytes would fail the same way: do not download them on every sync.
        log.debug("garmin: activity %s was quarantined for good; not downloaded again", garmin_id)
        return True
    try:
        blob = run.client.download_fit_zip(garmin_id)
    except GarminNotFound as exc:
        report.activities_skipped += 1
        report.failures.append(f"{garmin_id}: deleted in Garmin Connect, skipped ({exc})")
        return True  # gone: nothing to retry
    except GarminForbidden as exc:
        # Kept on record (not only in this run's lines), so it is not lost once it leaves the
        # overlap window; not marked for good, so a later sync inside the window tries again.
        report.activities_skipped += 1
        reason = f"Garmin refused the download of activity {garmin_id} (403 Forbidden): {exc}"
        report.failures.append(f"{garmin_id}: {reason}")
        quarantine(run.session, run.athlete, name=name, source="garmin", reason=reason, settings=run.settings)
        return True
    except UnsafeArchiveError as exc:
        return _hold_unsafe(run, garmin_id, name, exc)
    try:
        member, fit = safe_extract_single_fit(blob, run.limits)
    except UnsafeArchiveError as exc:
        return _hold_unsafe(run, garmin_id, name, exc, data=blob)
    outcome = import_fit_bytes(
        run.session,
        run.athlete,
        fit,
        source="garmin",
        name=member,
        garmin_activity_id=garmin_id,
        settings=run.settings,
    )
    if outcome.status == "quarantined":
        report.activities_quarantined += 1
        report.failures.append(f"{garmin_id}: {outcome.reason}")
        _mark_quarantined(run, outcome.sha256, garmin_id)
        return True  # the FIT itself is bad; a new download would be the same bytes
    if outcome.status == "known":
        # Same bytes came in before (e.g. a folder import): link them to this Garmin id.
        run.session.execute(
            update(Activity)
            .where(Activity.raw_file_id == outcome.raw_file_id, Activity.garmin_activity_id.is_(None))
            .values(garmin_activity_id=garmin_id)
        )
        report.activities_known += 1
    else:
        report.activities_imported += 1
    # A refused or cut-short download of this activity was recorded earlier: it is in now.
    run.session.execute(
        delete(Quarantine).where(
            Quarantine.athlete_id == run.athlete.id,
            Quarantine.source == "garmin",
            Quarantine.original_name == name,
            Quarantine.garmin_activity_id.is_(None),
        )
    )
    activity_ids = _known_ids(run, garmin_id)
    if strength and activity_ids:
        apply_garmin_sets(run, garmin_id, activity_ids)
    return True


def _nothing_new(page: list, cursor: datetime | None) -> bool:
    """Whether the list's newest activity is the one the cursor stands on (newest first)."""
    first = next((item for item in page if not isinstance(item, UnreadableActivity)), None)
    return cursor is not None and first is not None and first.start_utc == cursor


def sync_activities(run: RunContext, now: datetime, *, refresh_sets: bool = True) -> None:
    """Incremental: newest first until older than cursor - overlap.

    `refresh_sets=False` (the frequent cheap check) re-reads no exerciseSets of known
    activities; the full syncs around the athlete's morning do.
    """
    account, settings = run.account, run.settings
    cursor = account.activity_cursor
    if cursor is not None:
        cutoff = cursor - timedelta(days=settings.garmin_overlap_days)
    else:
        cutoff = now - timedelta(days=settings.garmin_initial_days)
    size = settings.garmin_page_size
    refresh_window = timedelta(hours=settings.garmin_sets_refresh_h)
    newest: datetime | None = None
    retry_from: datetime | None = None
    start = 0
    while True:
        page = run.client.activities(start, size)
        if start == 0 and not refresh_sets and _nothing_new(page, cursor):
            # The quiet check: the newest listed is the newest stored. The overlap window is
            # re-read by the full syncs around the morning; nothing else is touched here.
            run.report.activities_seen += 1
            run.report.activities_known += 1
            return
        older = False
        for item in page:
            if isinstance(item, UnreadableActivity):
                skip_unreadable(run, item)
                continue
            started = item.start_utc
            if started < cutoff:
                older = True
                break
            # Past the first sync every listed item is inside the overlap window; the athlete
            # relabels sets in Connect soon after a session: read the recent ones again.
            recent = now - started <= refresh_window
            if ingest_item(run, item, refresh_sets=refresh_sets and cursor is not None and recent):
                newest = max(newest or started, started)
            else:
                retry_from = min(retry_from or started, started)
        if older or len(page) < size:
            break
        start += size
    # Never move the cursor past an activity that must be retried.
    if retry_from is not None:
        account.activity_cursor = min(cursor or retry_from, retry_from - timedelta(seconds=1))
        run.report.status = SyncRunStatus.PARTIAL
    elif newest is not None and (cursor is None or newest > cursor):
        account.activity_cursor = newest


def backfill_activities(run: RunContext, lo: date, hi: date) -> bool:
    """Every activity with a local start date in [lo, hi]. False if one must be retried."""
    size = run.settings.garmin_page_size
    ok = True
    start = 0
    while True:
        page = run.client.activities(start, size, start_date=lo, end_date=hi)
        for item in page:
            if isinstance(item, UnreadableActivity):
                skip_unreadable(run, item)
                continue
            ok = ingest_item(run, item) and ok
        if len(page) < size:
            return ok
        start += size
