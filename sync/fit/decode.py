"""Decode FIT bytes into legday's typed records. The only module that imports fitparse.

Design (see docs/fit-decoding.md):
- fitparse does the binary parsing; we stream its messages and keep nothing but what legday
  stores (sessions, sets, a few file_id fields). Messages are not retained, so memory stays
  flat however long the recording is.
- Native fields are read by field definition number from the raw values, never through
  `get_values()` (a Connect IQ developer field with the same name would overwrite the real
  one) and never through fitparse's profile names (fitparse 1.2.0 predates fields 168, 192,
  193 and message 216).
- Any failure becomes `FitDecodeError` with one line of reason. A file whose only fault is a
  bad CRC is still used, flagged `crc_ok=False`.
"""

from __future__ import annotations

import re
import struct
import threading
from array import array
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import fitparse
import fitparse.records
from fitparse.processors import FitFileDataProcessor
from fitparse.profile import FIELD_TYPES
from fitparse.records import DataMessage, FieldDefinition
from fitparse.utils import FitCRCError, FitEOFError, FitHeaderError, FitParseError

from sync.errors import FitDecodeError
from sync.fit import exercises, sdk_profile
from sync.fit.metrics import TrimpAccumulator, banister_trimp
from sync.fit.types import DecodedFile, SessionRecord, SetRecord, TrimpAthlete

__all__ = ["decode_fit", "FitDecodeError"]

FIT_EPOCH_S = 631065600  # 1989-12-31T00:00:00Z as a Unix timestamp
_MIN_ABSOLUTE_TIME = 0x10000000  # smaller date_time values are device uptime, not dates

# Global message numbers legday reads; everything else is skipped after fitparse parses it.
MESG_FILE_ID = 0
MESG_SESSION = 18
MESG_RECORD = 20
MESG_HR = 132
MESG_TIME_IN_ZONE = 216
MESG_SET = 225
FIELD_TIMESTAMP = 253

# fitparse keeps developer-field definitions in a module-level dict (fitparse.records.
# DEV_TYPES) that leaks from one file into the next. We reset it per decode and hold a lock
# so two threads never share it mid-file.
_FITPARSE_LOCK = threading.Lock()


class _LightProcessor(FitFileDataProcessor):
    """A data processor that does nothing.

    fitparse's default processor looks up three `process_*` methods per field by name and
    swallows an AttributeError for each miss; legday converts the few raw values it keeps
    itself, so all of that work is skipped.
    """

    def run_type_processor(self, field_data: Any) -> None:  # noqa: D102
        return None

    def run_field_processor(self, field_data: Any) -> None:  # noqa: D102
        return None

    def run_unit_processor(self, field_data: Any) -> None:  # noqa: D102
        return None

    def run_message_processor(self, data_message: Any) -> None:  # noqa: D102
        return None


class _Discard(list):  # type: ignore[type-arg]
    """Stands in for FitFile._messages: fitparse appends every parsed message there."""

    def append(self, item: object) -> None:  # noqa: D102
        return None


_LIGHT = _LightProcessor()

# Messages whose fields legday reads (plus the two fitparse needs for developer fields).
_WANTED = frozenset({0, MESG_SESSION, MESG_RECORD, MESG_HR, MESG_TIME_IN_ZONE, MESG_SET, 206, 207})


class _StreamingFitFile(fitparse.FitFile):
    """fitparse's FitFile with two shortcuts that do not change what it decodes.

    - Raw values of a data message are unpacked with one precompiled struct per definition
      instead of one `struct.unpack` per field (same formats, same invalid-value parsing,
      same bytes consumed, same CRC).
    - Messages legday never reads (laps, events, hrv, device info...) are consumed but not
      turned into FieldData objects; only the timestamp state that later messages depend
      on is updated.
    """

    def __init__(self, data: bytes, check_crc: bool) -> None:
        self._plans: dict[int, tuple[Any, struct.Struct, list[tuple[int, bool, Any]]]] = {}
        super().__init__(data, check_crc=check_crc, data_processor=_LIGHT)
        self._messages = _Discard()  # not retaining parsed messages keeps memory flat

    def _plan(self, def_mesg: Any) -> tuple[struct.Struct, list[tuple[int, bool, Any]]]:
        cached = self._plans.get(id(def_mesg))
        if cached is not None and cached[0] is def_mesg:
            return cached[1], cached[2]
        fmt = [def_mesg.endian]
        steps: list[tuple[int, bool, Any]] = []
        for fdef in def_mesg.field_defs + def_mesg.dev_field_defs:
            base = fdef.base_type
            count = int(fdef.size / base.size)
            if count <= 0:
                raise FitParseError(f"Invalid struct format: {def_mesg.endian}{count}{base.fmt}")
            fmt.append(f"{count}{base.fmt}")
            is_string = base.fmt == "s"
            is_byte = base.name == "byte"
            # items taken from the flat unpack result; byte arrays stay one tuple value
            steps.append((1 if is_string else count, is_byte, base.parse))
        compiled = struct.Struct("".join(fmt))
        self._plans[id(def_mesg)] = (def_mesg, compiled, steps)
        return compiled, steps

    def _parse_raw_values_from_data_message(self, def_mesg: Any) -> list[Any]:
        compiled, steps = self._plan(def_mesg)
        flat = compiled.unpack(self._read(compiled.size)) if compiled.size else ()
        raw_values: list[Any] = []
        pos = 0
        for count, is_byte, parse in steps:
            if is_byte:
                raw_values.append(parse(flat[pos : pos + count]))
            elif count == 1:
                raw_values.append(parse(flat[pos]))
            else:
                raw_values.append(tuple(parse(v) for v in flat[pos : pos + count]))
            pos += count
        return raw_values

    def _parse_data_message(self, header: Any) -> Any:
        def_mesg = self._local_mesgs.get(header.local_mesg_num)
        if def_mesg is None or def_mesg.mesg_num in _WANTED:
            return super()._parse_data_message(header)
        raw_values = self._parse_raw_values_from_data_message(def_mesg)
        all_defs = def_mesg.field_defs + def_mesg.dev_field_defs
        for fdef, raw in zip(all_defs, raw_values, strict=False):
            if fdef.def_num == FIELD_TIMESTAMP and raw is not None:
                self._compressed_ts_accumulator = raw
        if header.time_offset is not None:
            self._compressed_ts_accumulator = self._apply_compressed_accumulation(
                header.time_offset, self._compressed_ts_accumulator, 5
            )
        return DataMessage(header=header, def_mesg=def_mesg, fields=[])


def _iter_messages(data: bytes, check_crc: bool) -> Iterator[Any]:
    """Yield fitparse data messages one by one, without fitparse keeping any of them."""
    ff = _StreamingFitFile(data, check_crc)
    parse = ff._parse_message
    while not ff._complete:
        message = parse()
        if message is not None and message.type == "data":
            yield message


# ---------------------------------------------------------------------------------------
# Raw field access


def _native_fields(message: Any) -> dict[int, Any]:
    """Raw values of a message's native fields keyed by field definition number.

    Developer fields are skipped. Values come before scale/offset (we apply the FIT profile
    scales ourselves). A compressed-timestamp header becomes field 253.
    """
    out: dict[int, Any] = {}
    for fd in message.fields:
        fdef = fd.field_def
        if type(fdef) is FieldDefinition:
            out[fdef.def_num] = fd.raw_value
        elif fdef is None and fd.field is not None and fd.field.def_num == FIELD_TIMESTAMP:
            out.setdefault(FIELD_TIMESTAMP, fd.raw_value)
    return out


def _as_tuple(value: Any) -> tuple[Any, ...]:
    """fitparse flattens one-element arrays to a scalar; arrays are always tuples here."""
    if value is None:
        return ()
    if isinstance(value, tuple):
        return value
    return (value,)


def _scaled(value: Any, scale: float) -> float | None:
    return None if value is None or isinstance(value, (tuple, bytes)) else value / scale


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def _fit_time(value: Any) -> datetime | None:
    if not isinstance(value, int) or value < _MIN_ABSOLUTE_TIME:
        return None
    return datetime.fromtimestamp(FIT_EPOCH_S + value, tz=UTC)


# ---------------------------------------------------------------------------------------
# Enum names


def _enum(type_name: str, value: int, newer: dict[int, str]) -> str | None:
    known = FIELD_TYPES[type_name].values
    return known.get(value) if value in known else newer.get(value)


def _sport_name(value: Any) -> str:
    if not isinstance(value, int):
        return "generic"  # the FIT default when the field is absent
    return _enum("sport", value, sdk_profile.SPORTS) or f"sport_{value}"


def _sub_sport_name(value: Any) -> str | None:
    if not isinstance(value, int):
        return None
    return _enum("sub_sport", value, sdk_profile.SUB_SPORTS) or f"sub_sport_{value}"


def _file_type_name(value: Any) -> str:
    if not isinstance(value, int):
        return "unknown"
    return _enum("file", value, sdk_profile.FILE_TYPES) or f"file_type_{value}"


def _manufacturer_name(value: Any) -> str | None:
    if not isinstance(value, int):
        return None
    return _enum("manufacturer", value, sdk_profile.MANUFACTURERS) or f"manufacturer_{value}"


def _product_name(manufacturer: Any, product: Any, manufacturer_name: str | None) -> str | None:
    if not isinstance(product, int):
        return None
    if manufacturer in sdk_profile.GARMIN_PRODUCT_MANUFACTURERS:
        name = _enum("garmin_product", product, sdk_profile.GARMIN_PRODUCTS)
        if name:
            return name
    return f"{manufacturer_name or 'unknown'}:{product}"


def _exercise_name(category: int | None, subtype: int | None) -> str | None:
    """Exercise name inside a category, from the FIT profile tables fitparse ships (0-32)."""
    if category is None or subtype is None:
        return None
    cat = exercises.EXERCISE_CATEGORIES.get(category)
    table = FIELD_TYPES.get(f"{cat}_exercise_name") if cat else None
    if table is None or table.values is None:
        return None
    return table.values.get(subtype)


# ---------------------------------------------------------------------------------------
# TRIMP, streamed


class _CumulativeTrimp:
    """Running Banister TRIMP over a whole file with sparse (t, total, samples) checkpoints.

    Session spans are often only known at the end of the file (or at its start, depending on
    the device), so TRIMP is accumulated once for the whole stream and cut per session later
    by interpolating between checkpoints. Memory: one checkpoint per `step_s` of recording,
    never the HR series itself.
    """

    def __init__(self, trimp_athlete: TrimpAthlete, step_s: float = 15.0) -> None:
        self._acc = TrimpAccumulator(trimp_athlete)
        self._step = step_s
        self._t = array("d")
        self._total = array("d")
        self._n = array("d")
        self._cov = array("d")  # seconds of recording covered by HR samples
        self._covered = 0.0
        self._last_t: float | None = None
        self._pending: tuple[float, float, int, float] | None = None

    def add(self, t: float, hr: Any) -> None:
        if not isinstance(hr, (int, float)) or hr <= 0:
            return
        acc = self._acc
        if self._last_t is not None and t > self._last_t:
            self._covered += min(t - self._last_t, acc.max_gap_s)
        self._last_t = t
        acc.add(t, hr)
        if not self._t or t - self._t[-1] >= self._step:
            self._append(t, acc.total, acc.samples, self._covered)
            self._pending = None
        elif t > self._t[-1]:
            self._pending = (t, acc.total, acc.samples, self._covered)

    def _append(self, t: float, total: float, n: float, covered: float) -> None:
        self._t.append(t)
        self._total.append(total)
        self._n.append(n)
        self._cov.append(covered)

    def finish(self) -> None:
        if self._pending is not None:
            self._append(*self._pending)
            self._pending = None

    def _at(self, t: float) -> tuple[float, float, float]:
        times = self._t
        i = bisect_right(times, t)
        if i == 0:
            return 0.0, 0.0, 0.0
        if i == len(times):
            return self._total[-1], self._n[-1], self._cov[-1]
        t0, t1 = times[i - 1], times[i]
        f = (t - t0) / (t1 - t0) if t1 > t0 else 0.0
        return (
            self._total[i - 1] + f * (self._total[i] - self._total[i - 1]),
            self._n[i - 1] + f * (self._n[i] - self._n[i - 1]),
            self._cov[i - 1] + f * (self._cov[i] - self._cov[i - 1]),
        )

    def between(self, start: float, end: float) -> tuple[float, int, float]:
        """TRIMP, HR sample count and seconds covered by samples in [start, end]."""
        if not self._t:
            return 0.0, 0, 0.0
        total0, n0, c0 = self._at(start)
        total1, n1, c1 = self._at(end)
        return total1 - total0, int(round(n1 - n0)), c1 - c0


class _HrMessages:
    """Heart rate from `hr` messages (HRM-Pro/chest-strap data stored for swims etc.).

    Each hr message carries filtered_bpm samples with event timestamps (1/1024 s, a device
    clock). A message that also has a `timestamp` anchors that clock to real time: sample
    time = anchor time + (event_timestamp - anchor event_timestamp), as the FIT SDK does.
    """

    _WRAP_S = float(0x400000)  # event_timestamp is uint32 in 1/1024 s: wraps at 2**22 s

    def __init__(self, sink: _CumulativeTrimp) -> None:
        self._sink = sink
        self._anchor_t: float | None = None
        self._anchor_evt = 0.0
        self.samples = 0

    def add(self, message: Any) -> None:
        ts = frac = None
        bpms: tuple[Any, ...] = ()
        native_evt: tuple[Any, ...] = ()
        expanded_evt: list[float] = []
        for fd in message.fields:
            fdef = fd.field_def
            if type(fdef) is FieldDefinition:
                num = fdef.def_num
                if num == FIELD_TIMESTAMP:
                    ts = fd.raw_value
                elif num == 0:
                    frac = _scaled(fd.raw_value, 32768.0)
                elif num == 6:
                    bpms = _as_tuple(fd.raw_value)
                elif num == 9:
                    native_evt = _as_tuple(fd.raw_value)
            elif fdef is None and fd.field is not None:
                # Components expanded by fitparse: event_timestamp_12 -> event_timestamp
                # (already scaled to seconds), time256 -> fractional_timestamp.
                if fd.field.def_num == 9 and fd.raw_value is not None:
                    expanded_evt.append(float(fd.raw_value))
                elif fd.field.def_num == 0 and frac is None and fd.raw_value is not None:
                    frac = float(fd.raw_value)
                elif fd.field.def_num == FIELD_TIMESTAMP and ts is None:
                    ts = fd.raw_value
        evts = [v / 1024.0 for v in native_evt if v is not None] or expanded_evt
        if not evts:
            return
        if isinstance(ts, int):
            self._anchor_t = ts + (frac or 0.0)
            self._anchor_evt = evts[0]
        if self._anchor_t is None:
            return  # delta message before any anchor: no way to place it in time
        for evt, bpm in zip(evts, bpms, strict=False):
            if evt < self._anchor_evt and self._anchor_evt - evt > self._WRAP_S / 2:
                evt += self._WRAP_S
            self._sink.add(self._anchor_t + (evt - self._anchor_evt), bpm)
            self.samples += 1


# ---------------------------------------------------------------------------------------
# Decoding


@dataclass
class _State:
    """What one pass over the messages collects."""

    trimp_athlete: TrimpAthlete
    file_id: dict[int, Any] | None = None
    sessions: list[dict[int, Any]] = field(default_factory=list)
    sets: list[dict[int, Any]] = field(default_factory=list)
    zones: dict[int, tuple[float, ...]] = field(default_factory=dict)
    record_trimp: _CumulativeTrimp = field(init=False)
    hr_trimp: _CumulativeTrimp = field(init=False)
    hr_messages: _HrMessages = field(init=False)

    def __post_init__(self) -> None:
        self.record_trimp = _CumulativeTrimp(self.trimp_athlete)
        self.hr_trimp = _CumulativeTrimp(self.trimp_athlete)
        self.hr_messages = _HrMessages(self.hr_trimp)


def _collect(data: bytes, check_crc: bool, trimp_athlete: TrimpAthlete) -> _State:
    state = _State(trimp_athlete)
    record_add = state.record_trimp.add
    for message in _iter_messages(data, check_crc):
        num = message.def_mesg.mesg_num
        if num == MESG_RECORD:
            t = hr = None
            for fd in message.fields:
                fdef = fd.field_def
                if fdef is None:
                    if fd.field is not None and fd.field.def_num == FIELD_TIMESTAMP:
                        t = fd.raw_value
                elif type(fdef) is FieldDefinition:
                    dn = fdef.def_num
                    if dn == 3:
                        hr = fd.raw_value
                    elif dn == FIELD_TIMESTAMP:
                        t = fd.raw_value
            if t is not None and hr is not None:
                record_add(t, hr)
        elif num == MESG_HR:
            state.hr_messages.add(message)
        elif num == MESG_SESSION:
            state.sessions.append(_native_fields(message))
        elif num == MESG_SET:
            state.sets.append(_native_fields(message))
        elif num == MESG_TIME_IN_ZONE:
            raw = _native_fields(message)
            if raw.get(0) == MESG_SESSION and isinstance(raw.get(1), int):
                zones = _as_tuple(raw.get(2))
                if zones and any(z is not None for z in zones):
                    state.zones[raw[1]] = tuple((z or 0) / 1000.0 for z in zones)
        elif num == MESG_FILE_ID and state.file_id is None:
            state.file_id = _native_fields(message)
    state.record_trimp.finish()
    state.hr_trimp.finish()
    return state


def _session_record(
    index: int,
    raw: dict[int, Any],
    state: _State,
    fallback_start: datetime | None,
    warnings: list[str],
) -> tuple[SessionRecord, float, float]:
    """Build one SessionRecord; also return its span in FIT-epoch seconds."""
    elapsed = _scaled(raw.get(7), 1000.0)
    timer = _scaled(raw.get(8), 1000.0)
    duration = timer if timer is not None else (elapsed or 0.0)
    start_raw = raw.get(2)
    end_raw = raw.get(FIELD_TIMESTAMP)
    if not (isinstance(start_raw, int) and start_raw >= _MIN_ABSOLUTE_TIME):
        if isinstance(end_raw, int) and end_raw >= _MIN_ABSOLUTE_TIME:
            start_raw = int(end_raw - (elapsed or duration))
        elif fallback_start is not None:
            start_raw = int(fallback_start.timestamp()) - FIT_EPOCH_S
        else:
            start_raw = _MIN_ABSOLUTE_TIME
    span_start = float(start_raw)
    span_end = span_start + (elapsed or duration)
    avg_hr = _int(raw.get(16))

    trimp_value, samples, covered = state.record_trimp.between(span_start, span_end)
    if samples < 2:
        trimp_value, samples, covered = state.hr_trimp.between(span_start, span_end)
    trimp: float | None = None
    if samples >= 2:
        trimp = round(trimp_value, 2)
    # A series that covers under half the session (clock jump, HR lost) would understate
    # the load: the session's average HR over its whole duration is the better estimate.
    if avg_hr and duration > 0 and (trimp is None or covered < 0.5 * duration):
        if trimp is not None:
            warnings.append(
                f"session {index}: HR series covers {covered / duration:.0%} of the session;"
                " TRIMP from its average HR"
            )
        trimp = round(banister_trimp(duration / 60.0, avg_hr, state.trimp_athlete), 2)

    message_index = raw.get(254)
    zones = state.zones.get(message_index if isinstance(message_index, int) else index)
    record = SessionRecord(
        index=index,
        sport=_sport_name(raw.get(5)),
        sub_sport=_sub_sport_name(raw.get(6)),
        start=datetime.fromtimestamp(FIT_EPOCH_S + start_raw, tz=UTC),
        duration_s=duration,
        elapsed_s=elapsed,
        distance_m=_scaled(raw.get(9), 100.0),
        avg_hr=avg_hr,
        max_hr=_int(raw.get(17)),
        trimp=trimp,
        aerobic_te=_scaled(raw.get(24), 10.0),
        anaerobic_te=_scaled(raw.get(137), 10.0),
        training_load_peak=_scaled(raw.get(168), 65536.0),
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


def _set_record(index: int, raw: dict[int, Any], spans: list[tuple[float, float]]) -> SetRecord:
    guesses_raw = [g for g in _as_tuple(raw.get(7)) if isinstance(g, int)]
    subtypes = _as_tuple(raw.get(8))
    first = guesses_raw[0] if guesses_raw else None
    category = exercises.category_name(first)
    first_subtype = subtypes[0] if subtypes and isinstance(subtypes[0], int) else None
    exercise = _exercise_name(first, first_subtype) if category != exercises.UNKNOWN else None
    weight_raw = raw.get(4)
    # 0xFFFE is the profile's "calculating" marker, not a weight
    weight = weight_raw / 16.0 if isinstance(weight_raw, int) and weight_raw != 0xFFFE else None
    start_raw = raw.get(6) if isinstance(raw.get(6), int) else raw.get(254)
    return SetRecord(
        index=index,
        session_index=_session_index_for(start_raw, spans),
        start=_fit_time(start_raw),
        category=category,
        category_guesses=tuple(exercises.category_name(g) for g in guesses_raw),
        exercise=exercise,
        reps=_int(raw.get(3)),
        weight_kg=weight,
        duration_s=_scaled(raw.get(0), 1000.0),
        set_type="active" if raw.get(5) == 1 else "rest",
        muscle_groups=exercises.muscle_groups(category, exercise),
        lower_body=exercises.lower_body_weight(category),
    )


def _build(state: _State, crc_ok: bool, warnings: list[str]) -> DecodedFile:
    fid = state.file_id or {}
    manufacturer_raw = fid.get(1)
    manufacturer = _manufacturer_name(manufacturer_raw)
    time_created = _fit_time(fid.get(4))

    sessions: list[SessionRecord] = []
    spans: list[tuple[float, float]] = []
    for i, raw in enumerate(state.sessions):
        record, start, end = _session_record(i, raw, state, time_created, warnings)
        sessions.append(record)
        spans.append((start, end))
    sets = tuple(_set_record(i, raw, spans) for i, raw in enumerate(state.sets))
    if sets and not sessions:
        warnings.append(f"{len(sets)} set messages but no session message")

    return DecodedFile(
        file_type=_file_type_name(fid.get(0)),
        manufacturer=manufacturer,
        product=_product_name(manufacturer_raw, fid.get(2), manufacturer),
        serial_number=_int(fid.get(3)),
        time_created=time_created,
        sessions=tuple(sessions),
        sets=sets,
        crc_ok=crc_ok,
        warnings=tuple(warnings),
    )


_CRC_RE = re.compile(r"computed: (0x[0-9A-Fa-f]+), read: (0x[0-9A-Fa-f]+)")
_LOCAL_RE = re.compile(r"invalid local message type (\d+)")


def _first_header_problem(data: bytes) -> str | None:
    """What is wrong with the file's own 12/14-byte header, if anything."""
    if len(data) >= 12:
        if data[0] not in (12, 14) or data[8:12] != b".FIT":
            return "not a FIT file: bad header"
        return None
    # Shorter than a header: a cut-off FIT file, or not a FIT file at all.
    looks_fit = bool(data) and data[0] in (12, 14) and b".FIT"[: max(0, len(data) - 8)] == data[8:12]
    if looks_fit:
        return f"truncated: {len(data)} bytes is shorter than a FIT header"
    return f"not a FIT file: {len(data)} bytes that do not start with a FIT header"


def _reason(exc: BaseException, data: bytes) -> str:
    """One human line for a quarantine record."""
    header = _first_header_problem(data)
    if header is not None:
        return header
    text = " ".join(str(exc).split())
    if isinstance(exc, FitCRCError):
        m = _CRC_RE.search(text)
        return f"CRC mismatch (computed {m[1]}, read {m[2]})" if m else "CRC mismatch"
    if isinstance(exc, FitHeaderError):  # the first header is fine: a chained one is not
        return "corrupt header: a chained FIT file inside this one has an invalid header"
    if isinstance(exc, FitEOFError):
        return "truncated: file ends inside a record (unexpected EOF)"
    if isinstance(exc, FitParseError):
        m = _LOCAL_RE.search(text)
        if m:
            return f"corrupt data: message uses undefined local message type {m[1]}"
        if text.startswith("Invalid field size"):
            return f"corrupt definition: misaligned field ({text})"
        if "dev_data_index" in text or "No such field" in text:
            return f"corrupt developer data: {text}"
        return f"corrupt FIT data: {text}"
    return f"corrupt FIT data: {type(exc).__name__}: {text}"[:300]


def _decode_once(data: bytes, trimp_athlete: TrimpAthlete, check_crc: bool) -> _State:
    with _FITPARSE_LOCK:
        fitparse.records.DEV_TYPES.clear()
        try:
            return _collect(data, check_crc, trimp_athlete)
        finally:
            fitparse.records.DEV_TYPES.clear()


def decode_fit(data: bytes, hr: TrimpAthlete | None = None, *, check_crc: bool = True) -> DecodedFile:
    """Decode the bytes of a FIT file into sessions, strength sets and file metadata.

    `hr` gives the athlete's sex, max and resting HR for TRIMP (defaults: male, 190/60).
    `check_crc=False` skips the CRC check, for bytes that were already checked once (a
    re-decode from the raw store, the benchmark); it is about 15 % faster.

    A file whose only fault is a bad CRC is decoded anyway and returned with
    `crc_ok=False` and a warning. Anything else unusable raises `FitDecodeError` with a
    one-line reason; no other exception escapes.
    """
    trimp_athlete = hr or TrimpAthlete()
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise FitDecodeError(f"not FIT data: expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if not data:
        raise FitDecodeError("empty file (0 bytes)")
    try:
        state = _decode_once(data, trimp_athlete, check_crc)
        return _build(state, True, [])
    except FitCRCError as crc_exc:
        crc_reason = _reason(crc_exc, data)
    except FitDecodeError:
        raise
    except (Exception, RecursionError) as exc:  # noqa: BLE001 - any library failure
        raise FitDecodeError(_reason(exc, data)) from None
    # Only the CRC failed so far: decode again without the check. If the bytes are sound
    # otherwise, the data is used; if not, the real fault is the reason.
    try:
        state = _decode_once(data, trimp_athlete, False)
        return _build(state, False, [f"{crc_reason}; decoded without the CRC check"])
    except (Exception, RecursionError) as exc:  # noqa: BLE001
        raise FitDecodeError(_reason(exc, data)) from None
