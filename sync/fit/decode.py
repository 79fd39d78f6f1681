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
from collections.abc import Iterator
from typing import Any

import fitparse
import fitparse.records
from fitparse.processors import FitFileDataProcessor
from fitparse.profile import FIELD_TYPES
from fitparse.records import DataMessage, FieldDefinition
from fitparse.utils import FitCRCError, FitEOFError, FitHeaderError, FitParseError

from sync.errors import FitDecodeError
from sync.fit.names import EnumNames
from sync.fit.records import (
    FIELD_TIMESTAMP,
    MESG_SESSION,
    FitMessages,
    RawMessage,
    as_tuple,
    build_decoded,
    scaled,
)
from sync.fit.trimp import HrMessageClock
from sync.fit.types import DecodedFile, TrimpAthlete

__all__ = ["decode_fit", "FitDecodeError"]

# Global message numbers legday reads; everything else is skipped after fitparse parses it.
MESG_FILE_ID = 0
MESG_RECORD = 20
MESG_HR = 132
MESG_TIME_IN_ZONE = 216
MESG_SET = 225

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
# Reading fitparse messages into plain values (record building is in sync.fit.records)


def _native_fields(message: Any) -> RawMessage:
    """Raw values of a message's native fields keyed by field definition number.

    Developer fields are skipped. Values come before scale/offset (we apply the FIT profile
    scales ourselves). A compressed-timestamp header becomes field 253.
    """
    out: RawMessage = {}
    for fd in message.fields:
        fdef = fd.field_def
        if type(fdef) is FieldDefinition:
            out[fdef.def_num] = fd.raw_value
        elif fdef is None and fd.field is not None and fd.field.def_num == FIELD_TIMESTAMP:
            out.setdefault(FIELD_TIMESTAMP, fd.raw_value)
    return out


def _add_hr_message(message: Any, clock: HrMessageClock) -> None:
    """Hand one `hr` message's timestamp, fraction, bpm and event times to the clock."""
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
                frac = scaled(fd.raw_value, 32768.0)
            elif num == 6:
                bpms = as_tuple(fd.raw_value)
            elif num == 9:
                native_evt = as_tuple(fd.raw_value)
        elif fdef is None and fd.field is not None:
            # Components expanded by fitparse: event_timestamp_12 -> event_timestamp
            # (already scaled to seconds), time256 -> fractional_timestamp.
            if fd.field.def_num == 9 and fd.raw_value is not None:
                expanded_evt.append(float(fd.raw_value))
            elif fd.field.def_num == 0 and frac is None and fd.raw_value is not None:
                frac = float(fd.raw_value)
            elif fd.field.def_num == FIELD_TIMESTAMP and ts is None:
                ts = fd.raw_value
    clock.add(ts, frac, bpms, native_evt, expanded_evt)


def _profile_table(type_name: str) -> dict[int, str] | None:
    """fitparse's bundled profile table for a FIT type name (the base for `EnumNames`)."""
    field_type = FIELD_TYPES.get(type_name)
    return None if field_type is None else field_type.values


_NAMES = EnumNames(_profile_table)


# ---------------------------------------------------------------------------------------
# Decoding


def _collect(data: bytes, check_crc: bool, trimp_athlete: TrimpAthlete) -> FitMessages:
    state = FitMessages(trimp_athlete)
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
            _add_hr_message(message, state.hr_messages)
        elif num == MESG_SESSION:
            state.sessions.append(_native_fields(message))
        elif num == MESG_SET:
            state.sets.append(_native_fields(message))
        elif num == MESG_TIME_IN_ZONE:
            state.add_time_in_zone(_native_fields(message))
        elif num == MESG_FILE_ID and state.file_id is None:
            state.add_file_id(_native_fields(message))
    state.finish()
    return state


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


def _decode_once(data: bytes, trimp_athlete: TrimpAthlete, check_crc: bool) -> FitMessages:
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
        return build_decoded(state, True, [], _NAMES)
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
        return build_decoded(state, False, [f"{crc_reason}; decoded without the CRC check"], _NAMES)
    except (Exception, RecursionError) as exc:  # noqa: BLE001
        raise FitDecodeError(_reason(exc, data)) from None
