"""FIT's CRC-16 in plain Python (no fitparse): for tools that write or rewrite FIT files."""

from __future__ import annotations

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


def fit_crc(data: bytes | bytearray, crc: int = 0) -> int:
    """FIT's CRC-16 (the SDK's nibble algorithm, done a byte at a time)."""
    table = _BYTE_TABLE
    for b in data:
        # CRC-16/ARC is linear: crc(byte) from the table, combined with the shifted state.
        crc = (crc >> 8) ^ table[(crc ^ b) & 0xFF]
    return crc
