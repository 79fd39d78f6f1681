"""Re-decode stored raw files after a decoder upgrade (`legday reprocess`).

A change of the athlete's HR profile needs no re-decode: TRIMP is recomputed from the stored
heart-rate histograms (`sync.ingest.load`); this also fills those histograms for rows stored
before they existed (migration 0012).

The raw FIT bytes are kept for exactly this (DESIGN section 3): no Garmin request is needed.
Their CRC was checked when they were first imported (the result is in `raw_file.crc_ok`), so
the re-decode skips that check, the decoder's most expensive single step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sync.config import Settings
from sync.db.models import Activity, Athlete, RawFile, StrengthSet
from sync.db.statuses import RawFileStatus
from sync.db.tx import Checkpoint
from sync.errors import FitDecodeError
from sync.fit.decode import decode_fit
from sync.ingest.importer import fit_limits, store_decoded
from sync.ingest.load import trimp_athlete_for
from sync.ingest.rawstore import RawStore


@dataclass
class ReprocessOutcome:
    """How many stored files were decoded again, and which could not be."""

    files: int = 0
    activities: int = 0
    failed: list[str] = field(default_factory=list)


def redecode_file(session: Session, athlete: Athlete, raw: RawFile, settings: Settings) -> list[int]:
    """Decode one stored raw file again and refresh its activities (histograms and TRIMP
    included) and FIT sets; return the activity ids. Raises `FitDecodeError` or `OSError`.

    Sets that came from Garmin's API (the athlete's corrections) are kept as they are.
    """
    data = RawStore(settings.raw_store_dir).get(raw.store_path)
    decoded = decode_fit(data, check_crc=False, limits=fit_limits(settings))
    garmin_id = session.scalar(
        select(Activity.garmin_activity_id).where(
            Activity.raw_file_id == raw.id, Activity.garmin_activity_id.is_not(None)
        )
    )
    activity_ids = select(Activity.id).where(Activity.raw_file_id == raw.id)
    # The watch's guesses are rebuilt; Garmin's corrections stay (insert-if-absent below).
    session.execute(
        delete(StrengthSet).where(StrengthSet.activity_id.in_(activity_ids), StrengthSet.source == "fit")
    )
    return store_decoded(
        session,
        athlete,
        decoded,
        sha=raw.sha256,
        raw_file_id=raw.id,
        garmin_activity_id=garmin_id,
        trimp_athlete=trimp_athlete_for(athlete, settings),
    )


def reprocess_athlete(
    session: Session, athlete: Athlete, settings: Settings, *, checkpoint: Checkpoint
) -> ReprocessOutcome:
    """Decode every stored file of `athlete` again and refresh its activities and FIT sets.

    Sets that came from Garmin's API (the athlete's corrections) are kept as they are. Each
    re-decoded file is kept through the caller's `checkpoint` (sync/db/tx.py).
    """
    report = ReprocessOutcome()
    raws = session.scalars(
        select(RawFile)
        .where(RawFile.athlete_id == athlete.id, RawFile.status == RawFileStatus.DECODED)
        .order_by(RawFile.id)
    ).all()
    for raw in raws:
        try:
            ids = redecode_file(session, athlete, raw, settings)
        except (FitDecodeError, OSError) as exc:
            report.failed.append(f"{raw.original_name or raw.sha256}: {exc}")
            continue
        checkpoint()  # file by file: an interrupt keeps what was done
        report.files += 1
        report.activities += len(ids)
    return report
