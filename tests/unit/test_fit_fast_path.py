"""The fast path of `decode_fit` against the slow one (every message through fitparse).

`decode_fit` reads bulk messages (`record`...) from their compiled layout and checks the CRC
with `sync.fit.crc`; `decode_fit_reference` lets fitparse parse every message and check the
CRC itself. Both must give the same `DecodedFile` (compared by repr, so every field and
float counts) or the same one-line reason, on fixtures, synthetic edge cases and damaged
bytes. The whole corpus is compared in tests/integration/test_corpus.py.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.errors import FitDecodeError
from sync.fit.crc import crc_in_c, fit_crc
from sync.fit.decode import decode_fit, decode_fit_reference

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fit"
SOURCES = {p.name: p.read_bytes() for p in sorted(FIXTURES.glob("*.fit"))}
T0 = 1_100_000_000  # FIT seconds


def outcome(decoder, data: bytes, check_crc: bool) -> str:  # noqa: ANN001
    """What a decoder makes of the bytes, as one comparable string."""
    try:
        return repr(decoder(data, check_crc=check_crc))
    except FitDecodeError as exc:
        return f"FitDecodeError: {exc.reason}"


def assert_same(data: bytes) -> None:
    for check_crc in (True, False):
        assert outcome(decode_fit, data, check_crc) == outcome(decode_fit_reference, data, check_crc)


# --- a hand-built FIT body: definitions, normal and compressed-timestamp data messages --


def definition(local: int, global_num: int, fields: list[tuple[int, int, int]], dev=()) -> bytes:  # noqa: ANN001
    """fields: (number, size, base type); dev: (number, size, developer data index)."""
    head = 0x40 | local | (0x20 if dev else 0)
    out = bytes([head, 0, 0]) + struct.pack("<HB", global_num, len(fields))
    out += b"".join(bytes(f) for f in fields)
    if dev:
        out += bytes([len(dev)]) + b"".join(bytes(d) for d in dev)
    return out


def fit_file(body: bytes, *, bad_crc: bool = False) -> bytes:
    head = struct.pack("<BBHI4s", 14, 0x20, 2132, len(body), b".FIT")
    head += struct.pack("<H", fit_crc(head))
    out = head + body
    crc = fit_crc(out) ^ (0x1234 if bad_crc else 0)
    return out + struct.pack("<H", crc)


FILE_ID = definition(0, 0, [(0, 1, 0x00), (4, 4, 0x86)]) + bytes([0, 4]) + struct.pack("<I", T0)
SESSION = definition(2, 18, [(253, 4, 0x86), (2, 4, 0x86), (7, 4, 0x86), (8, 4, 0x86), (16, 1, 0x02)])


def session(start: int, seconds: int, avg_hr: int = 140) -> bytes:
    return bytes([2]) + struct.pack("<IIIIB", start + seconds, start, seconds * 1000, seconds * 1000, avg_hr)


def test_fixtures_same_both_ways() -> None:
    for data in SOURCES.values():
        assert_same(data)


def test_compressed_timestamps_in_records() -> None:
    # one full record with a timestamp, then 20 s-offset compressed headers (5-bit rollover)
    body = FILE_ID + definition(1, 20, [(253, 4, 0x86), (3, 1, 0x02)])
    body += bytes([1]) + struct.pack("<IB", T0, 120)
    body += definition(3, 20, [(3, 1, 0x02)])  # compressed records: heart rate only
    for t in range(1, 1200):
        body += bytes([0x80 | (3 << 5) | ((T0 + t) & 0x1F), 100 + t % 60])
    body += SESSION + session(T0, 1200)
    data = fit_file(body)
    assert_same(data)
    assert sum(seconds for _, seconds in decode_fit(data).sessions[0].hr_seconds or ()) > 0


def test_odd_record_layouts() -> None:
    # heart rate as an array, a timestamp that is invalid, two timestamps, a uint16 heart rate
    body = FILE_ID
    body += definition(1, 20, [(253, 4, 0x86), (3, 2, 0x02)]) + bytes([1]) + struct.pack("<IBB", T0, 120, 121)
    body += (
        definition(1, 20, [(253, 4, 0x86), (3, 1, 0x02)]) + bytes([1]) + struct.pack("<IB", 0xFFFFFFFF, 130)
    )
    body += definition(1, 20, [(253, 4, 0x86), (3, 1, 0x02), (253, 4, 0x86)])
    body += bytes([1]) + struct.pack("<IBI", T0 + 5, 131, T0 + 6)
    body += definition(1, 20, [(3, 2, 0x84), (253, 4, 0x86)])
    for t in range(10, 400, 3):
        body += bytes([1]) + struct.pack("<HI", 140, T0 + t)
    body += SESSION + session(T0, 400)
    assert_same(fit_file(body))


def test_bulk_message_timestamps_drive_later_compressed_headers() -> None:
    # an event (21) with a timestamp sets the clock that a later compressed record uses
    body = FILE_ID + definition(1, 21, [(253, 4, 0x86), (0, 1, 0x00)])
    body += bytes([1]) + struct.pack("<IB", T0 + 100, 0)
    body += definition(3, 20, [(3, 1, 0x02)])
    for t in range(101, 700):
        body += bytes([0x80 | (3 << 5) | ((T0 + t) & 0x1F), 150])
    body += SESSION + session(T0 + 100, 600, avg_hr=150)
    assert_same(fit_file(body))


def test_developer_field_numbered_253_moves_the_clock() -> None:
    dev_id = definition(0, 207, [(3, 1, 0x02)]) + bytes([0, 0])
    # field_description: developer index 0, field 253, base type uint32
    desc = definition(1, 206, [(0, 1, 0x02), (1, 1, 0x02), (2, 1, 0x02)]) + bytes([1, 0, 253, 0x86])
    body = FILE_ID + dev_id + desc
    body += definition(2, 20, [(3, 1, 0x02)], dev=[(253, 4, 0)])
    for t in range(0, 300, 30):
        body += bytes([2, 140]) + struct.pack("<I", T0 + t)
    body += definition(3, 20, [(3, 1, 0x02)])
    for t in range(271, 300):
        body += bytes([0x80 | (3 << 5) | ((T0 + t) & 0x1F), 140])
    body += definition(2, 18, [(253, 4, 0x86), (2, 4, 0x86), (7, 4, 0x86), (8, 4, 0x86), (16, 1, 0x02)])
    body += session(T0, 300)
    assert_same(fit_file(body))


def test_zero_length_field_and_bad_crc_and_truncation() -> None:
    body = FILE_ID + definition(1, 20, [(253, 4, 0x86), (3, 0, 0x02)]) + bytes([1]) + struct.pack("<I", T0)
    assert_same(fit_file(body))
    good = FILE_ID + definition(1, 20, [(253, 4, 0x86), (3, 1, 0x02)])
    good += b"".join(bytes([1]) + struct.pack("<IB", T0 + t, 130) for t in range(100))
    good += SESSION + session(T0, 100)
    assert_same(fit_file(good, bad_crc=True))
    for cut in (20, 40, 77, len(fit_file(good)) - 1):
        assert_same(fit_file(good)[:cut])


def test_chained_files() -> None:
    one = fit_file(FILE_ID + SESSION + session(T0, 60))
    two = fit_file(FILE_ID + SESSION + session(T0 + 100, 60), bad_crc=True)
    assert_same(one + one)
    assert_same(one + two)
    assert_same(two + one)
    assert_same(one + one[:30])


FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(
    name=st.sampled_from(sorted(SOURCES)),
    flips=st.lists(
        st.tuples(st.floats(0.0, 1.0, exclude_max=True), st.integers(0, 7)), min_size=1, max_size=4
    ),
)
def test_bit_flipped_same_both_ways(name: str, flips: list[tuple[float, int]]) -> None:
    data = bytearray(SOURCES[name])
    for where, bit in flips:
        data[int(where * len(data))] ^= 1 << bit
    assert_same(bytes(data))


@FUZZ
@given(name=st.sampled_from(sorted(SOURCES)), cut=st.floats(0.0, 1.0))
def test_truncated_same_both_ways(name: str, cut: float) -> None:
    data = SOURCES[name]
    assert_same(data[: int(len(data) * cut)])


@pytest.mark.parametrize("data", [b"", b"\x0e", b"\x0e\x10" + b"\x00" * 20])
def test_tiny_inputs_same_both_ways(data: bytes) -> None:
    assert_same(data)


@FUZZ
@given(name=st.sampled_from(sorted(SOURCES)), header=st.binary(min_size=14, max_size=14))
def test_garbled_header_same_both_ways(name: str, header: bytes) -> None:
    assert_same(header + SOURCES[name][14:])


def _nibble_crc(data: bytes) -> int:
    """The FIT SDK's reference algorithm, four bits at a time."""
    table = (0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401)
    table += (0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400)
    crc = 0
    for byte in data:
        for nibble in (byte & 0xF, byte >> 4):
            tmp = table[crc & 0xF]
            crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ table[nibble]
    return crc


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4095, 4096, 4097, 9000, 9001])
def test_crc_agrees_with_the_sdks_nibble_algorithm(size: int) -> None:
    data = bytes((i * 131 + 7) % 256 for i in range(size))
    assert fit_crc(data) == _nibble_crc(data)
    assert fit_crc(bytearray(data)) == _nibble_crc(data)
    assert fit_crc(memoryview(data)[1:]) == _nibble_crc(data[1:])
    # continued from the CRC of a prefix: the same as the whole
    assert fit_crc(data[size // 3 :], fit_crc(data[: size // 3])) == _nibble_crc(data)


def test_crc_runs_in_c() -> None:
    # crcmod falls back to its own pure-Python loop when its extension cannot load: still
    # correct, but the CRC would cost a third of a decode again (docs/fit-decoding.md).
    assert crc_in_c()
