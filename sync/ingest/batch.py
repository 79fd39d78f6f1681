"""Import many files for one athlete, committing file by file, and summarise the outcome."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path

from sqlalchemy.orm import Session

from sync.config import Settings
from sync.db.models import Athlete, SyncRun
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


def import_paths(
    session: Session,
    athlete: Athlete,
    paths: list[Path],
    settings: Settings,
    *,
    on_total: Callable[[int], None] | None = None,
    on_file: Callable[[ImportOutcome], None] | None = None,
) -> ImportSummary:
    """Import every FIT file under `paths` for `athlete`; bad files are quarantined, not fatal."""
    run = SyncRun(athlete_id=athlete.id, kind="import", started_at=datetime.now(UTC), summary={})
    session.add(run)
    session.commit()
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
        session.commit()  # one file at a time: an interrupt keeps what was done
        summary.outcomes.append(outcome)
        if on_file:
            on_file(outcome)
    run.finished_at = datetime.now(UTC)
    run.status = "quarantined" if summary.quarantined else "ok"
    run.summary = dict(summary.counts)
    session.commit()
    return summary
