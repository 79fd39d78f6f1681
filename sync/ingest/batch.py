"""Import many files for one athlete, kept file by file (a checkpoint), and summarise the outcome."""

from __future__ import annotations

import os
import socket
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import chain
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.config import Settings
from sync.db.models import Athlete, SyncRun
from sync.db.statuses import SyncRunStatus
from sync.db.tx import Checkpoint
from sync.errors import UnreadableInput
from sync.ingest.archive import ArchiveLimits
from sync.ingest.folder import FoundFile, iter_found, list_candidates
from sync.ingest.importer import ImportOutcome, import_fit_bytes, quarantine


@dataclass
class ImportSummary:
    """Counts by status, and every outcome for the report."""

    outcomes: list[ImportOutcome] = field(default_factory=list)

    @property
    def counts(self) -> Counter[str]:
        """How many files ended imported, known and quarantined."""
        return Counter(o.status for o in self.outcomes)

    @property
    def quarantined(self) -> list[ImportOutcome]:
        """The files that could not be used."""
        return [o for o in self.outcomes if o.status == "quarantined"]


def limits_from(settings: Settings) -> ArchiveLimits:
    """Archive caps from settings."""
    return ArchiveLimits(settings.max_fit_bytes, settings.max_zip_total_bytes, settings.max_zip_ratio)


ABANDONED_AFTER = timedelta(days=1)  # a run on another host still "running" after this is dead


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, someone else's
    return True


def close_abandoned_imports(session: Session, athlete: Athlete) -> int:
    """Mark `interrupted` the import runs whose process died (killed) before finishing.

    On this host a run is abandoned when its process is gone; a run from another host (a
    shared database) only once it is older than a day. Returns how many were closed.
    """
    now = datetime.now(UTC)
    host = socket.gethostname()
    closed = 0
    for run in session.scalars(
        select(SyncRun).where(
            SyncRun.athlete_id == athlete.id,
            SyncRun.kind == "import",
            SyncRun.status == SyncRunStatus.RUNNING,
        )
    ):
        info = run.summary or {}
        if info.get("host") == host and _alive(info.get("pid")):
            continue
        if info.get("host") not in (None, host) and now - run.started_at < ABANDONED_AFTER:
            continue
        run.status, run.finished_at = SyncRunStatus.INTERRUPTED, now
        run.summary = {**info, "note": "the importing process ended before finishing (killed?)"}
        closed += 1
    return closed


def import_paths(
    session: Session,
    athlete: Athlete,
    paths: list[Path],
    settings: Settings,
    *,
    on_total: Callable[[int], None] | None = None,
    on_file: Callable[[ImportOutcome], None] | None = None,
    checkpoint: Checkpoint,
) -> ImportSummary:
    """Import every FIT file under `paths` for `athlete`; bad files are quarantined, not fatal.

    Kept through the caller's `checkpoint` (sync/db/tx.py): the `running` run
    row before the first file, each file once imported or quarantined, and the finished run.
    """
    close_abandoned_imports(session, athlete)
    run = SyncRun(
        athlete_id=athlete.id,
        kind="import",
        started_at=datetime.now(UTC),
        summary={"pid": os.getpid(), "host": socket.gethostname()},
    )
    session.add(run)
    checkpoint()  # the run is visible as `running` (with the abandoned ones closed) from here
    problems: list[FoundFile] = []
    candidates = list_candidates(paths, problems)
    if on_total and not any(p.suffix.lower() == ".zip" for p in candidates):
        on_total(len(candidates) + len(problems))  # a ZIP holds an unknown number of files
    summary = ImportSummary()
    for found in chain(problems, iter_found(candidates, limits_from(settings))):
        if found.refused:
            outcome = quarantine(
                session,
                athlete,
                name=found.name,
                source=found.source,
                reason=found.refused,
                data=found.data,
                settings=settings,
            )
        else:
            try:
                data = found.read(settings.max_fit_bytes)
            except UnreadableInput as exc:
                # Refused before decoding: the user's file stays where it is, its reason is kept.
                outcome = quarantine(
                    session,
                    athlete,
                    name=found.name,
                    source=found.source,
                    reason=exc.reason,
                    settings=settings,
                )
            else:
                outcome = import_fit_bytes(
                    session, athlete, data, source=found.source, name=found.name, settings=settings
                )
        checkpoint()  # one file at a time: an interrupt keeps what was done
        summary.outcomes.append(outcome)
        if on_file:
            on_file(outcome)
    run.finished_at = datetime.now(UTC)
    run.status = SyncRunStatus.QUARANTINED if summary.quarantined else SyncRunStatus.OK
    run.summary = {**run.summary, **summary.counts}
    checkpoint()
    return summary
