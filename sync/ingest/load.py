"""Training load (TRIMP) of stored activities: computed when storing, recomputed when the
athlete's HR profile changes.

The decoder knows no athlete: each session comes with the seconds spent at each heart rate
(`SessionRecord.hr_seconds`). That histogram is stored with the activity
(`activity.hr_seconds`, `{"<bpm>": seconds}`) and TRIMP is computed from it and the athlete's
profile (sex, max and resting HR), so a new max or resting HR recomputes every stored TRIMP
from the database alone, without decoding a file again (`recompute_trimp`).

Rows stored before migration 0012 have a TRIMP but no histogram. `legday reprocess` fills
them (it re-decodes every stored file); otherwise the first profile change decodes just
those files from the raw store, once, and stores their histograms (lazy backfill); a file
whose bytes are gone keeps its TRIMP, and a warning names it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.config import Settings
from sync.db.models import Activity, Athlete, RawFile
from sync.db.statuses import RawFileStatus
from sync.fit.trimp import trimp_from_seconds
from sync.fit.types import HrSeconds, TrimpAthlete

log = logging.getLogger(__name__)

# What TRIMP depends on besides the recording: a change of any of these recomputes it
HR_PROFILE_FIELDS = ("sex", "max_hr", "rest_hr")


def default_trimp_athlete(settings: Settings) -> TrimpAthlete:
    """The configured HR profile for files that belong to no athlete (`legday parse`)."""
    return TrimpAthlete(settings.default_sex, settings.default_max_hr, settings.default_rest_hr)


def trimp_athlete_for(athlete: Athlete, settings: Settings) -> TrimpAthlete:
    """The athlete's HR profile for TRIMP, with the configured defaults filling gaps."""
    return TrimpAthlete(
        sex="female" if athlete.sex == "female" else "male",
        max_hr=athlete.max_hr or settings.default_max_hr,
        rest_hr=athlete.rest_hr or settings.default_rest_hr,
    )


def hr_seconds_json(hr_seconds: HrSeconds | None) -> dict[str, float] | None:
    """The histogram as stored in `activity.hr_seconds` (JSON object keys are strings)."""
    return None if hr_seconds is None else {str(bpm): seconds for bpm, seconds in hr_seconds}


def hr_seconds_from_json(stored: Mapping[str, float] | None) -> HrSeconds | None:
    """`activity.hr_seconds` back as (bpm, seconds) pairs sorted by bpm."""
    if stored is None:
        return None
    return tuple(sorted((int(bpm), float(seconds)) for bpm, seconds in stored.items()))


@dataclass
class RecomputeOutcome:
    """What a recompute changed: activities whose TRIMP was recomputed, files decoded
    again to backfill their histograms, and files that could not be (their TRIMP stays)."""

    activities: int = 0
    redecoded_files: int = 0
    failed: list[str] = field(default_factory=list)


def _backfill_histograms(
    session: Session, athlete: Athlete, settings: Settings, out: RecomputeOutcome
) -> None:
    """Decode again the stored files whose activities have a TRIMP but no histogram (stored
    before migration 0012); `redecode_file` stores their histograms and TRIMP."""
    raw_ids = select(Activity.raw_file_id).where(
        Activity.athlete_id == athlete.id,
        Activity.hr_seconds.is_(None),
        Activity.trimp.is_not(None),
        Activity.raw_file_id.is_not(None),
    )
    raws = session.scalars(
        select(RawFile)
        .where(RawFile.id.in_(raw_ids), RawFile.status == RawFileStatus.DECODED)
        .order_by(RawFile.id)
    ).all()
    if not raws:
        return
    # Imported here: decoding pulls in fitparse, which a profile change needs only while
    # histograms are missing.
    from sync.errors import FitDecodeError
    from sync.ingest.reprocess import redecode_file

    for raw in raws:
        try:
            redecode_file(session, athlete, raw, settings)
        except (FitDecodeError, OSError) as exc:
            line = f"{raw.original_name or raw.sha256}: {exc}"
            # its TRIMP stays the one computed for the old profile until `legday reprocess`
            log.warning("TRIMP not recomputed, no histogram and no readable raw file: %s", line)
            out.failed.append(line)
            continue
        out.redecoded_files += 1


def recompute_trimp(session: Session, athlete: Athlete, settings: Settings) -> RecomputeOutcome:
    """Recompute the TRIMP of every stored activity of `athlete` from its histogram and the
    athlete's current HR profile. The caller owns the transaction.

    Activities without any heart rate keep a NULL TRIMP; those stored before migration 0012
    get their histogram from the raw store first (see the module docstring).
    """
    out = RecomputeOutcome()
    _backfill_histograms(session, athlete, settings, out)
    profile = trimp_athlete_for(athlete, settings)
    activities = session.scalars(
        select(Activity).where(Activity.athlete_id == athlete.id, Activity.hr_seconds.is_not(None))
    ).all()
    for activity in activities:
        activity.trimp = trimp_from_seconds(hr_seconds_from_json(activity.hr_seconds), profile)
        out.activities += 1
    session.flush()
    return out
