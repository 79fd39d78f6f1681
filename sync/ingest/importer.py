"""Bytes in, stored records out: keep the raw file, decode it, upsert sessions and sets.

Used by the folder/ZIP importer and by the Garmin sync alike, so both paths store the same
rows for the same file. Every write is keyed naturally, so importing twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from sync.config import Settings, get_settings
from sync.db.models import Activity, Athlete, Quarantine, RawFile, StrengthSet
from sync.db.statuses import RawFileStatus
from sync.db.upsert import insert_if_new, upsert, upsert_many
from sync.errors import FitDecodeError, TransientError
from sync.fit.decode import decode_fit
from sync.fit.trimp import trimp_from_seconds
from sync.fit.types import DecodedFile, FitLimits, TrimpAthlete
from sync.ingest.load import hr_seconds_json, trimp_athlete_for
from sync.ingest.rawstore import RawStore, sha256_hex

Status = Literal["imported", "known", "quarantined"]


@dataclass
class ImportOutcome:
    """What happened to one file."""

    name: str
    status: Status
    reason: str | None = None
    sha256: str | None = None
    raw_file_id: int | None = None
    activity_ids: list[int] = field(default_factory=list)
    file_type: str | None = None


def fit_limits(settings: Settings) -> FitLimits:
    """What one file may produce under the configured caps (LEGDAY_MAX_FIT_SESSIONS...)."""
    return FitLimits(
        sessions=settings.max_fit_sessions, sets=settings.max_fit_sets, records=settings.max_fit_records
    )


def unusable_reason(data: bytes, decoded: DecodedFile | None, settings: Settings) -> str | None:
    """Why a file must not be used under the configured policy (size, CRC), or None."""
    if len(data) > settings.max_fit_bytes:
        return f"too large: {len(data)} bytes is over the {settings.max_fit_bytes}-byte limit"
    if decoded is not None and not decoded.crc_ok and not settings.accept_bad_crc:
        return "CRC mismatch (LEGDAY_ACCEPT_BAD_CRC is off)"
    return None


def quarantine(
    session: Session,
    athlete: Athlete,
    *,
    name: str,
    source: str,
    reason: str,
    data: bytes | None = None,
    sha: str | None = None,
    settings: Settings | None = None,
) -> ImportOutcome:
    """Record a file that cannot be used; keep its bytes when we have them."""
    settings = settings or get_settings()
    store_path = None
    if data is not None:
        sha = sha or sha256_hex(data)
        store_path = RawStore(settings.raw_store_dir).put(data, sha)
    sha = sha or sha256_hex(name.encode())
    upsert(
        session,
        Quarantine,
        {
            "athlete_id": athlete.id,
            "sha256": sha,
            "original_name": name[:500],
            "source": source,
            "reason": reason,
            "store_path": store_path,
            "quarantined_at": datetime.now(UTC),
        },
        ["athlete_id", "sha256"],
    )
    return ImportOutcome(name=name, status="quarantined", reason=reason, sha256=sha)


def recording_key(decoded: DecodedFile) -> str | None:
    """What makes two files the same recording: the first session's start (to the second,
    UTC) and sport, as `"<unix seconds>/<sport>"`; None for a file without a session.

    A watch copy, an export copy and a re-saved file share it, whatever their bytes.
    `raw_file.recording_key` is unique per athlete, so the database itself keeps a recording
    from being stored twice (migration 0010 computes it the same way for older rows).
    """
    if not decoded.sessions:
        return None
    first = decoded.sessions[0]
    return f"{int(first.start.timestamp())}/{first.sport}"


def _stored_instead(
    session: Session, athlete: Athlete, sha: str, key: str | None
) -> tuple[int, str | None, str | None, bool]:
    """The stored raw file that made an insert do nothing: (id, name, file type, same bytes)."""
    row = session.execute(
        select(RawFile.id, RawFile.original_name, RawFile.file_type).where(
            RawFile.athlete_id == athlete.id, RawFile.sha256 == sha
        )
    ).first()
    if row is not None:
        return row.id, row.original_name, row.file_type, True
    row = session.execute(
        select(RawFile.id, RawFile.original_name, RawFile.file_type).where(
            RawFile.athlete_id == athlete.id, RawFile.recording_key == key
        )
    ).first()
    if row is None:  # the winner vanished between its insert and our look-up (athlete deleted)
        raise TransientError("the raw file this one collided with is gone; import it again")
    return row.id, row.original_name, row.file_type, False


def forget_quarantine(session: Session, athlete: Athlete, *, sha: str, name: str, source: str) -> None:
    """Drop the quarantine records a file that now imported fine left earlier (same bytes or name)."""
    session.execute(
        delete(Quarantine).where(
            Quarantine.athlete_id == athlete.id,
            or_(
                Quarantine.sha256 == sha,
                (Quarantine.original_name == name[:500]) & (Quarantine.source == source),
            ),
        )
    )


def import_fit_bytes(
    session: Session,
    athlete: Athlete,
    data: bytes,
    *,
    source: str,
    name: str,
    garmin_activity_id: int | None = None,
    settings: Settings | None = None,
) -> ImportOutcome:
    """Store, decode and upsert one FIT file for `athlete`. Never raises on bad input."""
    settings = settings or get_settings()
    sha = sha256_hex(data)
    known = session.execute(
        select(RawFile.id, RawFile.file_type).where(RawFile.athlete_id == athlete.id, RawFile.sha256 == sha)
    ).first()
    if known is not None:
        return ImportOutcome(name, "known", sha256=sha, raw_file_id=known.id, file_type=known.file_type)

    reason = unusable_reason(data, None, settings)
    if reason is None:
        try:
            decoded = decode_fit(data, limits=fit_limits(settings))
        except FitDecodeError as exc:
            reason = exc.reason
        else:
            reason = unusable_reason(data, decoded, settings)
    if reason is not None:
        return quarantine(session, athlete, name=name, source=source, reason=reason, data=data, sha=sha)

    store = RawStore(settings.raw_store_dir)
    key = recording_key(decoded)
    raw_id = insert_if_new(
        session,
        RawFile,
        {
            "athlete_id": athlete.id,
            "sha256": sha,
            "recording_key": key,
            "size": len(data),
            "store_path": store.relative_path(sha),
            "source": source,
            "original_name": name[:500],
            "status": RawFileStatus.DECODED,
            "crc_ok": decoded.crc_ok,
            "file_type": decoded.file_type,
            "product": decoded.product,
            "received_at": datetime.now(UTC),
        },
    )
    if raw_id is None:
        # The same bytes, or other bytes of the same recording (a watch copy and an export
        # copy, a re-saved file), are stored already, maybe by an import running right now:
        # the insert waited for it and did nothing. Stored once, or the run load would count
        # twice in the ACWR; this import reuses the stored rows.
        raw_id, original, file_type, same_bytes = _stored_instead(session, athlete, sha, key)
        forget_quarantine(session, athlete, sha=sha, name=name, source=source)
        reason = (
            None if same_bytes else f"same recording as {original} (same start and sport), not stored twice"
        )
        return ImportOutcome(
            name, "known", reason=reason, sha256=sha, raw_file_id=raw_id, file_type=file_type
        )
    store.put(data, sha)  # after the row: an import that lost the race writes no bytes
    activity_ids = store_decoded(
        session,
        athlete,
        decoded,
        sha=sha,
        raw_file_id=raw_id,
        garmin_activity_id=garmin_activity_id,
        trimp_athlete=trimp_athlete_for(athlete, settings),
    )
    forget_quarantine(session, athlete, sha=sha, name=name, source=source)
    return ImportOutcome(
        name,
        "imported",
        sha256=sha,
        raw_file_id=raw_id,
        activity_ids=activity_ids,
        file_type=decoded.file_type,
    )


def store_decoded(
    session: Session,
    athlete: Athlete,
    decoded: DecodedFile,
    *,
    sha: str,
    raw_file_id: int | None,
    garmin_activity_id: int | None = None,
    trimp_athlete: TrimpAthlete,
) -> list[int]:
    """Upsert one Activity per session and its strength sets; return the activity ids.

    Each activity keeps its session's seconds per heart rate, and its TRIMP computed from
    them for `trimp_athlete` (`sync.ingest.load`: recomputed from the stored histogram when
    the athlete's HR profile changes).
    """
    tz = ZoneInfo(athlete.timezone)
    ids: list[int] = []
    set_rows: list[dict[str, Any]] = []  # written in one statement after the loop
    for s in decoded.sessions:
        activity_id = upsert(
            session,
            Activity,
            {
                "athlete_id": athlete.id,
                "source_id": f"{sha}/{s.index}",
                "garmin_activity_id": garmin_activity_id,
                "raw_file_id": raw_file_id,
                "session_index": s.index,
                "sport": s.sport,
                "sub_sport": s.sub_sport,
                "start_utc": s.start,
                "end_utc": s.end,
                "local_date": s.start.astimezone(tz).date(),
                "duration_s": s.duration_s,
                "distance_m": s.distance_m,
                "avg_hr": s.avg_hr,
                "max_hr": s.max_hr,
                "trimp": trimp_from_seconds(s.hr_seconds, trimp_athlete),
                "hr_seconds": hr_seconds_json(s.hr_seconds),
                "aerobic_te": s.aerobic_te,
                "anaerobic_te": s.anaerobic_te,
                "training_load_peak": s.training_load_peak,
                "workout_rpe": s.workout_rpe,
                "workout_feel": s.workout_feel,
            },
            ["athlete_id", "source_id"],
        )
        ids.append(activity_id)
        corrected = session.scalar(
            select(StrengthSet.id).where(
                StrengthSet.activity_id == activity_id, StrengthSet.source == "garmin"
            )
        )
        if corrected is not None:
            continue  # Garmin's list is the athlete's: a set deleted there must not come back
        for st in decoded.sets:
            if st.session_index != s.index:
                continue
            set_rows.append(
                {
                    "activity_id": activity_id,
                    "set_index": st.index,
                    "start_utc": st.start,
                    "category": st.category,
                    "category_guesses": list(st.category_guesses),
                    "exercise": st.exercise,
                    "reps": st.reps,
                    "weight_kg": st.weight_kg,
                    "duration_s": st.duration_s,
                    "set_type": st.set_type,
                    "muscle_groups": list(st.muscle_groups),
                    "lower_body": st.lower_body,
                    "source": "fit",
                }
            )
    # insert-if-absent: an import never rewrites a stored set
    upsert_many(session, StrengthSet, set_rows, ["activity_id", "set_index"], update=False)
    return ids
