"""Decode FIT bytes into legday's typed records. The only module that imports fitparse.

Design (see docs/fit-decoding.md):
- fitparse parses headers, definitions and the messages legday builds records from; the
  bulk of a file (`record` and every message legday does not read) takes a fast path that
  reads only the timestamp and heart rate from the message's compiled layout. Nothing is
  retained, so memory stays flat however long the recording is. `decode_fit_reference`
  sends every message through fitparse: the tests hold the fast path to it.
- The CRC is checked once, after parsing, by `sync.fit.crc` (fitparse's check stays off).
- Native fields are read by field definition number from the raw values, never through
  `get_values()` (a Connect IQ developer field with the same name would overwrite the real
  one) and never through fitparse's profile names (fitparse 1.2.0 predates fields 168, 192,
  193 and message 216).
- Any failure becomes `FitDecodeError` with one line of reason. A file whose only fault is a
  bad CRC is still used, flagged `crc_ok=False`.
- What one file may produce is capped (`FitLimits`: sessions, sets, data records): parsing
  stops at the first message past a cap, so a small crafted file cannot ask for unbounded work.
"""

from __future__ import annotations

import re
import struct
import threading
from typing import Any, NamedTuple

import fitparse
import fitparse.records
from fitparse.processors import FitFileDataProcessor
from fitparse.profile import FIELD_TYPES
from fitparse.records import FieldDefinition
from fitparse.utils import FitCRCError, FitEOFError, FitHeaderError, FitParseError

from sync.errors import FitDecodeError
from sync.fit.build import (
    FIELD_TIMESTAMP,
    MESG_SESSION,
    FitMessages,
    RawMessage,
    as_tuple,
    build_decoded,
    scaled,
)
from sync.fit.crc import fit_crc
from sync.fit.hr_seconds import HrMessageClock
from sync.fit.names import EnumNames
from sync.fit.types import DecodedFile, FitLimits

__all__ = ["decode_fit", "decode_fit_reference", "FitDecodeError"]

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


class _Discard(list):
    """Stands in for FitFile._messages: fitparse appends every parsed message there."""

    def append(self, item: object) -> None:  # noqa: D102
        return None


_LIGHT = _LightProcessor()

# Messages fitparse parses in full: the ones legday builds records from, and the two it needs
# for developer fields. Every other data message takes the fast path.
_FULL = frozenset({MESG_FILE_ID, MESG_SESSION, MESG_HR, MESG_TIME_IN_ZONE, MESG_SET, 206, 207})
FIELD_HEART_RATE = 3  # record.heart_rate


class _Tap(NamedTuple):
    """Where one field sits in a data message, and how fitparse would read its raw value."""

    offset: int  # from the record header byte
    layout: struct.Struct
    parse: Any  # fitparse's base-type parse (invalid value -> None)
    is_byte: bool  # byte arrays are one tuple value
    native: bool  # False for a developer field
    single: bool  # one value, not a byte array: the common case, read inline


class _Plan(NamedTuple):
    """The compiled layout of one definition, as the fast path reads it."""

    def_mesg: Any
    size: int  # record header byte + fields
    is_record: bool
    ts_taps: tuple[_Tap, ...]
    hr_taps: tuple[_Tap, ...]


def _tap_value(buf: bytes, pos: int, tap: _Tap) -> Any:
    """The raw value fitparse would give the field: same struct, same flattening, same parse."""
    values = tap.layout.unpack_from(buf, pos + tap.offset)
    if tap.is_byte:
        return tap.parse(values)
    if len(values) > 1:
        return tuple(tap.parse(v) for v in values)
    return tap.parse(values[0])


class _FitReader(fitparse.FitFile):
    """fitparse's FitFile reading from an in-memory buffer, with a fast path for bulk messages.

    fitparse still parses the file header, every definition message and the data messages
    legday builds records from (`_FULL`); for everything else, `record` above all, the fast
    path reads only the timestamp and heart-rate fields at their offsets in the message's
    layout and skips the rest, without building fitparse's per-field objects. fitparse's own
    CRC check is always off: the spans it would check are recorded and checked afterwards
    with `sync.fit.crc`, once, and only when asked to (`crc_problem`).
    """

    def __init__(self, data: bytes) -> None:
        self._buf = data
        self._size = len(data)
        self._pos = 0
        self._span_start = 0
        # (start, end, CRC read, zero allowed) in the order fitparse would check them
        self.crc_spans: list[tuple[int, int, int, bool]] = []
        self._plans: dict[int, _Plan] = {}
        super().__init__(data, check_crc=False, data_processor=_LIGHT)
        self._messages = _Discard()  # not retaining parsed messages keeps memory flat

    # -- fitparse's byte source, on the buffer (same reads, same errors) ---------------

    def _read(self, size: int) -> bytes | None:
        if size <= 0:
            return None
        start = self._pos
        end = start + size
        if end > self._size:
            got = max(0, self._size - start)
            raise FitEOFError(f"Tried to read {size} bytes from .FIT file but got {got}")
        self._pos = end
        self._bytes_left -= size
        return self._buf[start:end]

    def _parse_file_header(self) -> None:
        self._span_start = self._pos  # a chained file's CRCs cover bytes from its own header on
        super()._parse_file_header()

    def _read_and_assert_crc(self, allow_zero: bool = False) -> None:
        start, end = self._span_start, self._pos
        read = self._read_struct("H")
        self.crc_spans.append((start, end, read, allow_zero))

    def crc_problem(self) -> str | None:
        """The first CRC mismatch, worded as `decode_fit` reports it; None when all match."""
        buf = memoryview(self._buf)  # slices of a view: no copy of a large file's bytes
        cache: dict[tuple[int, int], int] = {}
        for start, end, read, allow_zero in self.crc_spans:
            computed = cache.get((start, end))
            if computed is None:
                computed = cache[(start, end)] = fit_crc(buf[start:end])
            if computed != read and not (allow_zero and read == 0):
                return f"CRC mismatch (computed 0x{computed:04X}, read 0x{read:04X})"
        return None

    # -- the fast path -------------------------------------------------------------------

    def _plan(self, def_mesg: Any) -> _Plan | None:
        """Size of a data message and where its timestamp and heart-rate fields sit.

        None for a definition with a zero-length field: fitparse raises reading it, so such
        messages go to fitparse for its exact error.
        """
        cached = self._plans.get(id(def_mesg))
        if cached is not None and cached.def_mesg is def_mesg:
            return cached
        endian = def_mesg.endian
        offset = 0
        ts_taps: list[_Tap] = []
        hr_taps: list[_Tap] = []
        for fdef in def_mesg.field_defs + def_mesg.dev_field_defs:
            base = fdef.base_type
            count = fdef.size // base.size
            if count <= 0:
                return None
            native = type(fdef) is FieldDefinition
            # fitparse moves its compressed-timestamp clock on any field numbered 253,
            # developer fields included; legday reads only native heart rate (field 3)
            if fdef.def_num == FIELD_TIMESTAMP or (native and fdef.def_num == FIELD_HEART_RATE):
                tap = _Tap(
                    offset + 1,  # + the record header byte
                    struct.Struct(f"{endian}{count}{base.fmt}"),
                    base.parse,
                    base.name == "byte",
                    native,
                    (count == 1 and base.name != "byte") or base.fmt == "s",  # strings: one value
                )
                (ts_taps if fdef.def_num == FIELD_TIMESTAMP else hr_taps).append(tap)
            offset += fdef.size
        plan = _Plan(def_mesg, offset + 1, def_mesg.mesg_num == MESG_RECORD, tuple(ts_taps), tuple(hr_taps))
        self._plans[id(def_mesg)] = plan
        return plan

    def run(self, state: FitMessages) -> None:
        """Parse the whole buffer into `state`: bulk messages on the fast path, the rest
        through fitparse and `_collect_message`."""
        buf = self._buf
        size = self._size
        record_add = state.record_series.add
        parse_message = fitparse.FitFile._parse_message
        records = 0  # data records read so far, every kind
        max_records = state.limits.records
        while True:
            if self._bytes_left <= 0:
                self._read_and_assert_crc()
                if self._pos >= size:
                    self._complete = True
                    return
                self._parse_file_header()  # chained FIT file
                continue
            pos = self._pos
            if pos >= size:
                raise FitEOFError("Tried to read 1 bytes from .FIT file but got 0")
            head = buf[pos]
            if head & 0x80:  # compressed-timestamp header: local type in bits 5-6
                def_mesg = self._local_mesgs.get((head >> 5) & 0x3)
                time_offset: int | None = head & 0x1F
            elif head & 0x40:  # definition: fitparse's
                parse_message(self)
                continue
            else:
                def_mesg = self._local_mesgs.get(head & 0xF)
                time_offset = None
            if def_mesg is None or def_mesg.mesg_num in _FULL:
                message = parse_message(self)
                records += 1
                if records > max_records:
                    raise FitDecodeError(too_many_records(max_records))
                _collect_message(message, state)
                continue

            plan = self._plan(def_mesg)
            if plan is None:  # a definition fitparse rejects when reading: its error
                _collect_message(parse_message(self), state)  # it raises before returning
                continue
            end = pos + plan.size
            if end > size:
                raise FitEOFError(f"Tried to read {plan.size} bytes from .FIT file but got {size - pos}")
            records += 1
            if records > max_records:
                raise FitDecodeError(too_many_records(max_records))
            self._pos = end
            self._bytes_left -= plan.size
            t: Any = None
            for tap in plan.ts_taps:
                if tap.single:
                    raw = tap.parse(tap.layout.unpack_from(buf, pos + tap.offset)[0])
                else:
                    raw = _tap_value(buf, pos, tap)
                if tap.native:
                    t = raw
                if raw is not None:
                    self._compressed_ts_accumulator = raw
            if time_offset is not None:
                t = self._compressed_ts_accumulator = self._apply_compressed_accumulation(
                    time_offset, self._compressed_ts_accumulator, 5
                )
            if plan.is_record:
                hr: Any = None
                for tap in plan.hr_taps:
                    if tap.single:
                        hr = tap.parse(tap.layout.unpack_from(buf, pos + tap.offset)[0])
                    else:
                        hr = _tap_value(buf, pos, tap)
                if t is not None and hr is not None:
                    record_add(t, hr)


# ---------------------------------------------------------------------------------------
# Reading fitparse messages into plain values (building our typed records is in sync.fit.build)


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


def too_many_records(cap: int) -> str:
    """The quarantine reason of a file with more than `cap` data records."""
    return f"too many records: more than {cap} data records in one file (LEGDAY_MAX_FIT_RECORDS)"


def _collect_message(message: Any, state: FitMessages) -> None:
    """Hand one message parsed in full by fitparse to `state` (definitions are ignored).

    Raises `FitDecodeError` on the first session or set past the file's cap.
    """
    if message is None or message.type != "data":
        return
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
                if dn == FIELD_HEART_RATE:
                    hr = fd.raw_value
                elif dn == FIELD_TIMESTAMP:
                    t = fd.raw_value
        if t is not None and hr is not None:
            state.record_series.add(t, hr)
    elif num == MESG_HR:
        _add_hr_message(message, state.hr_messages)
    elif num == MESG_SESSION:
        state.sessions.append(_native_fields(message))
        if len(state.sessions) > state.limits.sessions:
            cap = state.limits.sessions
            raise FitDecodeError(f"too many sessions: more than {cap} in one file (LEGDAY_MAX_FIT_SESSIONS)")
    elif num == MESG_SET:
        state.sets.append(_native_fields(message))
        if len(state.sets) > state.limits.sets:
            raise FitDecodeError(
                f"too many sets: more than {state.limits.sets} in one file (LEGDAY_MAX_FIT_SETS)"
            )
    elif num == MESG_TIME_IN_ZONE:
        state.add_time_in_zone(_native_fields(message))
    elif num == MESG_FILE_ID and state.file_id is None:
        state.add_file_id(_native_fields(message))


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


class _ReferenceFitFile(fitparse.FitFile):
    """Plain fitparse (its own CRC check, every message parsed in full), minus retention and
    the per-field processors, which change no raw value. The yardstick for the fast path."""

    def __init__(self, data: bytes, check_crc: bool) -> None:
        super().__init__(data, check_crc=check_crc, data_processor=_LIGHT)
        self._messages = _Discard()


def _fast_pass(data: bytes, check_crc: bool, limits: FitLimits) -> tuple[FitMessages, str | None]:
    """One parse on the fast path; the CRC problem, if checked and any, comes back with it."""
    state = FitMessages(limits)
    with _FITPARSE_LOCK:
        fitparse.records.DEV_TYPES.clear()
        try:
            reader = _FitReader(data)
            reader.run(state)
        finally:
            fitparse.records.DEV_TYPES.clear()
    state.finish()
    return state, (reader.crc_problem() if check_crc else None)


def _reference_pass(data: bytes, check_crc: bool, limits: FitLimits) -> FitMessages:
    state = FitMessages(limits)
    records = 0
    with _FITPARSE_LOCK:
        fitparse.records.DEV_TYPES.clear()
        try:
            ff = _ReferenceFitFile(data, check_crc)
            while not ff._complete:
                message = ff._parse_message()
                if message is not None and message.type == "data":
                    records += 1
                    if records > limits.records:
                        raise FitDecodeError(too_many_records(limits.records))
                _collect_message(message, state)
        finally:
            fitparse.records.DEV_TYPES.clear()
    state.finish()
    return state


def _checked_bytes(data: Any) -> bytes:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise FitDecodeError(f"not FIT data: expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if not data:
        raise FitDecodeError("empty file (0 bytes)")
    return data


def decode_fit(data: bytes, *, check_crc: bool = True, limits: FitLimits | None = None) -> DecodedFile:
    """Decode the bytes of a FIT file into sessions, strength sets and file metadata.

    The decoder knows no athlete: each session carries the seconds spent at each heart rate
    (`SessionRecord.hr_seconds`), and the load (TRIMP) is computed from them for an athlete
    when it is stored (`sync.fit.trimp.trimp_from_seconds`), so a new max or resting HR
    needs no re-decode. `check_crc=False` skips the CRC check, for bytes that were already
    checked once (a re-decode from the raw store, the benchmark). `limits` caps what the file
    may produce (default `FitLimits()`); past a cap the reason says which and the parse stops
    there.

    A file whose only fault is a bad CRC is decoded anyway and returned with
    `crc_ok=False` and a warning. Anything else unusable raises `FitDecodeError` with a
    one-line reason; no other exception escapes.
    """
    data = _checked_bytes(data)
    try:
        # One pass: the CRCs are checked after parsing (a parse error is the reason even
        # when a CRC is wrong too, as with fitparse's check-then-retry).
        state, crc_reason = _fast_pass(data, check_crc, limits or FitLimits())
        if crc_reason is None:
            return build_decoded(state, True, [], _NAMES)
        # Worded as `_reason` words a CRC error: an odd first header (size byte 10, say,
        # which fitparse accepts) is named before the CRC, as it always has been.
        crc_reason = _first_header_problem(data) or crc_reason
        return build_decoded(state, False, [f"{crc_reason}; decoded without the CRC check"], _NAMES)
    except FitDecodeError:
        raise
    except (Exception, RecursionError) as exc:  # noqa: BLE001 - any library failure
        raise FitDecodeError(_reason(exc, data)) from None


def decode_fit_reference(
    data: bytes, *, check_crc: bool = True, limits: FitLimits | None = None
) -> DecodedFile:
    """`decode_fit` the slow way, for tests and the benchmark: every message through
    fitparse in full, fitparse's own CRC check, and a second pass without it on a mismatch."""
    limits = limits or FitLimits()
    data = _checked_bytes(data)
    try:
        state = _reference_pass(data, check_crc, limits)
        return build_decoded(state, True, [], _NAMES)
    except FitCRCError as crc_exc:
        crc_reason = _reason(crc_exc, data)
    except FitDecodeError:
        raise
    except (Exception, RecursionError) as exc:  # noqa: BLE001
        raise FitDecodeError(_reason(exc, data)) from None
    try:
        state = _reference_pass(data, False, limits)
        return build_decoded(state, False, [f"{crc_reason}; decoded without the CRC check"], _NAMES)
    except FitDecodeError:
        raise
    except (Exception, RecursionError) as exc:  # noqa: BLE001
        raise FitDecodeError(_reason(exc, data)) from None
