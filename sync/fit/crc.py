"""FIT's CRC-16 (no fitparse), computed in C by crcmod-plus: for the decoder and for tools that
write or rewrite FIT files.

FIT's CRC is CRC-16/ARC: polynomial 0x8005 reflected (crcmod writes it 0x18005 with the x^16
term), initial value 0, no final XOR. The FIT SDK computes it a nibble at a time; the result is
the same (tests/unit/test_fit_fast_path.py checks this against the SDK's nibble algorithm).

crcmod-plus ships abi3 wheels (one per platform, for every CPython from 3.11 on) with its C
extension for Linux (glibc and musl, x86_64 and aarch64), macOS and Windows, so there is no
pure-Python copy here to keep in step: the pure-Python loop it replaced cost a third of a decode
(docs/fit-decoding.md).
"""

from __future__ import annotations

import crcmod

# crcmod's C extension takes any buffer (bytes, bytearray, memoryview slices: no copy).
_CRC16_ARC = crcmod.mkCrcFun(0x18005, initCrc=0, rev=True, xorOut=0)


def fit_crc(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """FIT's CRC-16 of `data`, continuing from `crc` (the CRC of the bytes before it)."""
    return _CRC16_ARC(data, crc)


def crc_in_c() -> bool:
    """Whether crcmod runs its C extension (False only where its wheel could not be used and
    it fell back to its own pure-Python code: correct, ten times slower)."""
    from crcmod import crcmod as impl

    return bool(impl._usingExtension)
