"""FIT's CRC-16 in plain Python (no fitparse): for tools that write or rewrite FIT files."""

from __future__ import annotations

import sys
from array import array

# The FIT SDK's nibble table; expanded below into a byte table for speed.
_CRC_TABLE = [
    0x0000,
    0xCC01,
    0xD801,
    0x1400,
    0xF001,
    0x3C00,
    0x2800,
    0xE401,
    0xA001,
    0x6C00,
    0x7800,
    0xB401,
    0x5000,
    0x9C01,
    0x8801,
    0x4400,
]


def _crc_byte_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = 0
        for nibble in (byte & 0xF, byte >> 4):
            tmp = _CRC_TABLE[crc & 0xF]
            crc = (crc >> 4) & 0x0FFF
            crc = crc ^ tmp ^ _CRC_TABLE[nibble]
        table.append(crc)
    return table


_BYTE_TABLE = _crc_byte_table()
_WORD_TABLE: array[int] | None = None  # built on first use with a large input
_WORD_MIN_BYTES = 4096  # below this the byte loop is quicker than building the word table


def _word_table() -> array[int]:
    """CRC state after two bytes, indexed by (state XOR the little-endian 16-bit word).

    CRC-16 state is 16 bits wide, so two bytes shift it out completely and one lookup per
    word does the work of two per byte: half the Python loop. 128 KiB as an array('H'),
    built once per process (about 15 ms), only when a large input needs it.
    """
    global _WORD_TABLE
    if _WORD_TABLE is None:
        t = _BYTE_TABLE
        # a generator, not a list: no 2 MiB of temporary int objects at a decode's peak
        _WORD_TABLE = array(
            "H", ((t[x & 0xFF] >> 8) ^ t[((x >> 8) ^ t[x & 0xFF]) & 0xFF] for x in range(65536))
        )
    return _WORD_TABLE


def fit_crc(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """FIT's CRC-16 (the SDK's nibble algorithm, done a byte or a 16-bit word at a time)."""
    table = _BYTE_TABLE
    start = 0
    if len(data) >= _WORD_MIN_BYTES and sys.byteorder == "little":  # words read natively
        words = _word_table()
        start = len(data) & ~1
        for word in memoryview(data)[:start].cast("B").cast("H"):
            crc = words[crc ^ word]
    for b in memoryview(data)[start:].cast("B") if start else data:
        # CRC-16/ARC is linear: crc(byte) from the table, combined with the shifted state.
        crc = (crc >> 8) ^ table[(crc ^ b) & 0xFF]
    return crc
