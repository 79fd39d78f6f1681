"""Crafted FIT files that ask for unbounded work far under the size cap (issue 18, item 11).

Each is a valid FIT file (header, definitions, data, CRC) built by hand:

- `many_sessions(n)`: n session messages (19 bytes each: 50,000 in 0.95 MB);
- `many_sets(n)`: one strength session holding n set messages (20 bytes each: 300,000 in 6 MB);
- `many_records(n)`: one run of n heart-rate records with compressed-timestamp headers
  (2 bytes each: 4 million in 8 MB).

Shared by the tests (`tests/integration/test_fit_caps.py`) and `bench/bench_fit_caps.py`.
"""

from __future__ import annotations

import struct

from sync.fit.crc import fit_crc

T0 = 1_100_000_000  # FIT seconds: 2024-11-09
DAY = 86_400  # each kind starts on its own day: three recordings, not one
UINT8, UINT16, UINT32, ENUM = 0x02, 0x84, 0x86, 0x00


def definition(local: int, global_num: int, fields: list[tuple[int, int, int]]) -> bytes:
    """A definition message: fields are (number, size, base type), little-endian."""
    out = bytes([0x40 | local, 0, 0]) + struct.pack("<HB", global_num, len(fields))
    return out + b"".join(bytes(f) for f in fields)


def fit_file(body: bytes) -> bytes:
    """Header (14 bytes, with its CRC) + body + file CRC."""
    head = struct.pack("<BBHI4s", 14, 0x20, 2132, len(body), b".FIT")
    head += struct.pack("<H", fit_crc(head))
    out = head + body
    return out + struct.pack("<H", fit_crc(out))


FILE_ID = definition(0, 0, [(0, 1, ENUM), (4, 4, UINT32)]) + bytes([0, 4]) + struct.pack("<I", T0)
# session: timestamp, start_time, total_elapsed_time, total_timer_time, avg_heart_rate, sport, sub_sport
SESSION = definition(
    1, 18, [(253, 4, UINT32), (2, 4, UINT32), (7, 4, UINT32), (8, 4, UINT32), (16, 1, UINT8), (5, 1, ENUM)]
)
RUNNING, TRAINING = 1, 10


def session(start: int, seconds: int, sport: int, avg_hr: int = 140) -> bytes:
    """One session message (local type 1)."""
    ms = seconds * 1000
    return bytes([1]) + struct.pack("<IIIIBB", start + seconds, start, ms, ms, avg_hr, sport)


def many_sessions(n: int, start: int = T0) -> bytes:
    """n one-minute runs, one after the other, in one file."""
    body = [FILE_ID, SESSION]
    body += [session(start + 60 * i, 60, RUNNING) for i in range(n)]
    return fit_file(b"".join(body))


# set: timestamp, duration, repetitions, weight, set_type, start_time, category, message_index
SET = definition(
    2,
    225,
    [
        (253, 4, UINT32),
        (0, 4, UINT32),
        (3, 2, UINT16),
        (4, 2, UINT16),
        (5, 1, UINT8),
        (6, 4, UINT32),
        (7, 2, UINT16),
    ],
)
SQUAT = 28


def many_sets(n: int, start: int = T0 + DAY) -> bytes:
    """One strength session of n active squat sets of 5 x 100 kg, one a second."""
    sets = [
        bytes([2]) + struct.pack("<IIHHBIH", start + i + 1, 1000, 5, 100 * 16, 1, start + i, SQUAT)
        for i in range(n)
    ]
    return fit_file(b"".join([FILE_ID, SET, *sets, SESSION, session(start, n + 1, TRAINING)]))


# record: timestamp + heart_rate once (local 3), then heart_rate alone (local 2) under
# compressed-timestamp headers, which can only name local types 0-3
RECORD_FULL = definition(3, 20, [(253, 4, UINT32), (3, 1, UINT8)])
RECORD_HR = definition(2, 20, [(3, 1, UINT8)])


def many_records(n: int, start: int = T0 + 2 * DAY) -> bytes:
    """One run of n one-second heart-rate records, 2 bytes each after the first."""
    first = bytes([3]) + struct.pack("<IB", start, 150)
    # the 5-bit time offset of record i is (start + i) mod 32: one block of 32 repeats
    block = b"".join(bytes([0x80 | (2 << 5) | ((start + i) & 0x1F), 150]) for i in range(1, 33))
    whole, rest = divmod(n - 1, 32)
    compressed = block * whole + block[: 2 * rest]
    return fit_file(
        b"".join([FILE_ID, RECORD_FULL, first, RECORD_HR, compressed, SESSION, session(start, n, RUNNING)])
    )
