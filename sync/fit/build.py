"""Build legday's typed records (`DecodedFile`) from FIT messages given as plain dicts (no fitparse).

`sync.fit.decode` streams a file and fills a `FitMessages` with each wanted message's native
fields as `{field definition number: raw value}` (values before scale/offset) and the heart
rate samples; `build_decoded` turns that into a `DecodedFile`. Field numbers and scales are
the current FIT SDK profile's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sync.fit import exercises
from sync.fit.hr_seconds import MAX_BPM, CumulativeHr, HrMessageClock
from sync.fit.names import EnumNames
from sync.fit.types import DecodedFile, FitLimits, HrSeconds, SessionRecord, SetRecord

FIT_EPOCH_S = 631065600  # 1989-12-31T00:00:00Z as a Unix timestamp
MIN_ABSOLUTE_TIME = 0x10000000  # smaller date_time values are device uptime, not dates

MESG_SESSION = 18
FIELD_TIMESTAMP = 253
FIELD_MESSAGE_INDEX = 254

RawMessage = dict[int, Any]  # native fields by definition number, raw values


def as_tuple(value: Any) -> tuple[Any, ...]:
    """fitparse flattens one-element arrays to a scalar; arrays are always tuples here."""
    if value is None:
        return ()
    if isinstance(value, tuple):
        return value
    return (value,)


def scaled(value: Any, scale: float) -> float | None:
    """A raw number divided by its profile scale; None for absent or array values."""
    return None if value is None or isinstance(value, (tuple, bytes)) else value / scale


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def fit_time(value: Any) -> datetime | None:
    """A FIT date_time as UTC; None when absent or a device-uptime value."""
    if not isinstance(value, int) or value < MIN_ABSOLUTE_TIME:
        return None
    return datetime.fromtimestamp(FIT_EPOCH_S + value, tz=UTC)


@dataclass
class FitMessages:
    """What one pass over a file's messages collects: the raw dicts legday builds from and
    the seconds per heart rate of the `record` and `hr` heart rate series."""

    limits: FitLimits = field(default_factory=FitLimits)
    file_id: RawMessage | None = None
    sessions: list[RawMessage] = field(default_factory=list)
    sets: list[RawMessage] = field(default_factory=list)
    zones: dict[int, tuple[float, ...]] = field(default_factory=dict)
    record_series: CumulativeHr = field(init=False)
    hr_message_series: CumulativeHr = field(init=False)
    hr_messages: HrMessageClock = field(init=False)

    def __post_init__(self) -> None:
        self.record_series = CumulativeHr()
        self.hr_message_series = CumulativeHr()
        self.hr_messages = HrMessageClock(self.hr_message_series)

    def add_file_id(self, raw: RawMessage) -> None:
        """The file's `file_id` message; only the first one counts."""
        if self.file_id is None:
            self.file_id = raw

    def add_time_in_zone(self, raw: RawMessage) -> None:
        """A `time_in_zone` message (216); only rows that refer to a session are kept."""
        if raw.get(0) == MESG_SESSION and isinstance(raw.get(1), int):
            zones = as_tuple(raw.get(2))
            if zones and any(z is not None for z in zones):
                self.zones[raw[1]] = tuple((z or 0) / 1000.0 for z in zones)

    def finish(self) -> None:
        """Close both HR series; call once the last message has been added."""
        self.record_series.finish()
        self.hr_message_series.finish()


def _session_record(
    index: int,
    raw: RawMessage,
    state: FitMessages,
    names: EnumNames,
    fallback_start: datetime | None,
    warnings: list[str],
) -> tuple[SessionRecord, float, float]:
    """Build one SessionRecord; also return its span in FIT-epoch seconds."""
    elapsed = scaled(raw.get(7), 1000.0)
    timer = scaled(raw.get(8), 1000.0)
    duration = timer if timer is not None else (elapsed or 0.0)
    start_raw = raw.get(2)
    end_raw = raw.get(FIELD_TIMESTAMP)
    if not (isinstance(start_raw, int) and start_raw >= MIN_ABSOLUTE_TIME):
        if isinstance(end_raw, int) and end_raw >= MIN_ABSOLUTE_TIME:
            start_raw = int(end_raw - (elapsed or duration))
        elif fallback_start is not None:
            start_raw = int(fallback_start.timestamp()) - FIT_EPOCH_S
        else:
            start_raw = MIN_ABSOLUTE_TIME
    span_start = float(start_raw)
    span_end = span_start + (elapsed or duration)
    avg_hr = _int(raw.get(16))

    series, samples, covered = state.record_series.between(span_start, span_end)
    if samples < 2:
        series, samples, covered = state.hr_message_series.between(span_start, span_end)
    hr_seconds: HrSeconds | None = series if samples >= 2 else None
    # A series that covers under half the session (clock jump, HR lost) would understate
    # the load: the session's average HR over its whole duration is the better estimate.
    if avg_hr and duration > 0 and (hr_seconds is None or covered < 0.5 * duration):
        if hr_seconds is not None:
            warnings.append(
                f"session {index}: HR series covers {covered / duration:.0%} of the session;"
                " TRIMP from its average HR"
            )
        hr_seconds = ((min(avg_hr, MAX_BPM), duration),)

    message_index = raw.get(FIELD_MESSAGE_INDEX)
    zones = state.zones.get(message_index if isinstance(message_index, int) else index)
    record = SessionRecord(
        index=index,
        sport=names.sport(raw.get(5)),
        sub_sport=names.sub_sport(raw.get(6)),
        start=datetime.fromtimestamp(FIT_EPOCH_S + start_raw, tz=UTC),
        duration_s=duration,
        elapsed_s=elapsed,
        distance_m=scaled(raw.get(9), 100.0),
        avg_hr=avg_hr,
        max_hr=_int(raw.get(17)),
        hr_seconds=hr_seconds,
        aerobic_te=scaled(raw.get(24), 10.0),
        anaerobic_te=scaled(raw.get(137), 10.0),
        training_load_peak=scaled(raw.get(168), 65536.0),
        workout_feel=_int(raw.get(192)),
        workout_rpe=_int(raw.get(193)),
        time_in_zone_s=zones,
    )
    return record, span_start, span_end


def _session_index_for(t: Any, spans: list[tuple[float, float]]) -> int:
    """The session a set belongs to: the one whose span holds its start, else the latest
    session that started before it, else the first."""
    if not isinstance(t, int) or not spans:
        return 0
    for i, (start, end) in enumerate(spans):
        if start - 1.0 <= t <= end + 1.0:
            return i
    before = [i for i, (start, _) in enumerate(spans) if start <= t]
    return before[-1] if before else 0


def _set_record(index: int, raw: RawMessage, spans: list[tuple[float, float]], names: EnumNames) -> SetRecord:
    guesses_raw = [g for g in as_tuple(raw.get(7)) if isinstance(g, int)]
    subtypes = as_tuple(raw.get(8))
    first = guesses_raw[0] if guesses_raw else None
    category = exercises.category_name(first)
    first_subtype = subtypes[0] if subtypes and isinstance(subtypes[0], int) else None
    exercise = names.exercise(first, first_subtype) if category != exercises.UNKNOWN else None
    weight_raw = raw.get(4)
    # 0xFFFE is the profile's "calculating" marker, not a weight
    weight = weight_raw / 16.0 if isinstance(weight_raw, int) and weight_raw != 0xFFFE else None
    start_raw = raw.get(6) if isinstance(raw.get(6), int) else raw.get(FIELD_MESSAGE_INDEX)
    return SetRecord(
        index=index,
        session_index=_session_index_for(start_raw, spans),
        start=fit_time(start_raw),
        category=category,
        category_guesses=tuple(exercises.category_name(g) for g in guesses_raw),
        exercise=exercise,
        reps=_int(raw.get(3)),
        weight_kg=weight,
        duration_s=scaled(raw.get(0), 1000.0),
        set_type="active" if raw.get(5) == 1 else "rest",
        muscle_groups=exercises.muscle_groups(category, exercise),
        lower_body=exercises.lower_body_weight(category),
    )


def build_decoded(
    state: FitMessages, crc_ok: bool, warnings: list[str], names: EnumNames | None = None
) -> DecodedFile:
    """The `DecodedFile` for the collected messages.

    `names` resolves enum numbers (defaults to the newer SDK values only; `sync.fit.decode`
    passes one backed by fitparse's profile). Warnings found while building are appended to
    `warnings`.
    """
    names = names or EnumNames()
    fid = state.file_id or {}
    manufacturer_raw = fid.get(1)
    manufacturer = names.manufacturer(manufacturer_raw)
    time_created = fit_time(fid.get(4))

    sessions: list[SessionRecord] = []
    spans: list[tuple[float, float]] = []
    for i, raw in enumerate(state.sessions):
        record, start, end = _session_record(i, raw, state, names, time_created, warnings)
        sessions.append(record)
        spans.append((start, end))
    sets = tuple(_set_record(i, raw, spans, names) for i, raw in enumerate(state.sets))
    if sets and not sessions:
        warnings.append(f"{len(sets)} set messages but no session message")

    return DecodedFile(
        file_type=names.file_type(fid.get(0)),
        manufacturer=manufacturer,
        product=names.product(manufacturer_raw, fid.get(2), manufacturer),
        serial_number=_int(fid.get(3)),
        time_created=time_created,
        sessions=tuple(sessions),
        sets=sets,
        crc_ok=crc_ok,
        warnings=tuple(warnings),
    )
