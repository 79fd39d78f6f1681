"""What one run did (`SyncOutcome`) and the state its steps share (`RunContext`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from sync.config import Settings
from sync.db.models import Athlete, GarminAccount
from sync.db.statuses import SyncRunStatus
from sync.db.tx import Checkpoint
from sync.garmin.source import GarminSource
from sync.ingest.archive import ArchiveLimits

Progress = Callable[[str, int, int], None]  # (message, done, total)


@dataclass
class SyncOutcome:
    """What one sync or backfill did, for the CLI, the worker and the sync_run row."""

    athlete: str
    kind: str = "sync"
    status: str = SyncRunStatus.OK  # stored as sync_run.status
    message: str | None = None
    requests: int = 0
    activities_seen: int = 0
    activities_imported: int = 0
    activities_known: int = 0
    activities_quarantined: int = 0
    activities_skipped: int = 0  # deleted, refused (403) or unreadable list rows: named in failures
    garmin_sets: int = 0
    wellness_days: int = 0
    retry_after_s: float | None = None
    failures: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """A JSON-able dict (stored in sync_run.summary)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("athlete",)}


class RunContext:
    """State shared by the steps of one sync (report, settings, athlete, client)."""

    def __init__(
        self,
        session: Session,
        account: GarminAccount,
        client: GarminSource,
        settings: Settings,
        report: SyncOutcome,
        progress: Progress | None,
        checkpoint: Checkpoint,
    ) -> None:
        self.session = session
        # Where the run keeps its progress (a finished window): the caller's choice (sync/db/tx.py).
        # Steps never commit themselves.
        self.checkpoint: Checkpoint = checkpoint
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
