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
only per-day endpoints (two calls per day; an incremental sync skips past days of its overlap
whose sleep and readiness are stored already).

Modules: `run` (the entry points and `open_client`), `guard` (Garmin errors onto the account,
the sync_run record), `context` (the report and the state the steps share), `activities`
(listing, FIT download, quarantine), `exercise_sets` (Garmin's set corrections), `heart_rate`
(max / resting HR from Garmin's zones), `wellness` (the daily recovery values), `now` (the
account lock and `locked_run`, the locked entry point the CLI and the worker share), `due`
(which sync is due, the dispatcher's marks, `legday status`'s rows), `accounts` (linking
credentials). The workout push is an output: `sync/workouts/`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Resolved on first use (PEP 562): `legday status` and the dispatchers import `due` or `now`
# alone, and must not pay for garth and the HTTP stack they never call.
_EXPORTS = {
    "STRENGTH_TYPES": "activities",
    "Progress": "context",
    "SyncOutcome": "context",
    "backfill": "run",
    "open_client": "run",
    "sync_account": "run",
    "WELLNESS_OVERLAP_DAYS": "wellness",
    "WELLNESS_WINDOW_DAYS": "wellness",
}

__all__ = [
    "STRENGTH_TYPES",
    "WELLNESS_OVERLAP_DAYS",
    "WELLNESS_WINDOW_DAYS",
    "Progress",
    "SyncOutcome",
    "backfill",
    "open_client",
    "sync_account",
]

if TYPE_CHECKING:
    from sync.garmin_sync.activities import STRENGTH_TYPES
    from sync.garmin_sync.context import Progress, SyncOutcome
    from sync.garmin_sync.run import backfill, open_client, sync_account
    from sync.garmin_sync.wellness import WELLNESS_OVERLAP_DAYS, WELLNESS_WINDOW_DAYS


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value
