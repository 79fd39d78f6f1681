"""Move a FIT file in time by whole days, keeping it a valid FIT file.

The sandbox uses this to lay real recordings onto recent dates (the demo) or to spread copies
of a few files over a year (the benchmark): each shifted copy has its own bytes and sha256,
so the importer sees distinct files. Whole days keep compressed-timestamp headers valid
(86400 is a multiple of their 32-second roll-over).
"""

from __future__ import annotations

import struct

from sync.fit.crc import fit_crc

FIT_INVALID_U32 = 0xFFFFFFFF
# Below this a FIT date_time is "seconds since device power-on", not an absolute time.
FIT_MIN_ABSOLUTE = 0x10000000
# (global message, field) pairs holding date_time values besides field 253 (timestamp).
_DATETIME_FIELDS = {
    (0, 4),  # file_id.time_created
    (18, 2),  # session.start_time
    (19, 2),  # lap.start_time
    (34, 5),  # activity.local_timestamp
    (225, 6),  # set.start_time
    (101, 2),  # length.start_time
}
_TIMESTAMP = 253


def shift_fit_days(data: bytes, days: int) -> bytes:
    """Return `data` with every absolute timestamp moved by `days` (CRCs recomputed).

    Files whose CRC was already wrong keep a wrong CRC; unparseable files raise ValueError.
    """
    if days == 0:
        return bytes(data)
    delta = days * 86400
    out = bytearray(data)
    pos = 0
    while pos < len(out):
        if len(out) - pos < 12:
            break  # trailing garbage: leave it
        header_size = out[pos]
        if header_size not in (12, 14) or out[pos + 8 : pos + 12] != b".FIT":
            raise ValueError("not a FIT file header")
        data_size = struct.unpack_from("<I", out, pos + 4)[0]
        start = pos + header_size
        end = start + data_size
        if end + 2 > len(out):
            raise ValueError("FIT file shorter than its header says")
        crc_ok = fit_crc(out[pos:end]) == struct.unpack_from("<H", out, end)[0]
        _shift_records(out, start, end, delta)
        if crc_ok:
            struct.pack_into("<H", out, end, fit_crc(out[pos:end]))
        pos = end + 2
    return bytes(out)


def _shift_records(out: bytearray, pos: int, end: int, delta: int) -> None:
    # local message type -> (global number, endian, [(field num, size)], dev bytes)
    defs: dict[int, tuple[int, str, list[tuple[int, int]], int]] = {}
    while pos < end:
        header = out[pos]
        pos += 1
        if header & 0x80:  # compressed timestamp header: a data message
            local = (header >> 5) & 0x3
        elif header & 0x40:  # definition message
            local = header & 0x0F
            endian = ">" if out[pos + 1] == 1 else "<"
            global_num = struct.unpack_from(endian + "H", out, pos + 2)[0]
            n_fields = out[pos + 4]
            pos += 5
            fields = [(out[pos + 3 * i], out[pos + 3 * i + 1]) for i in range(n_fields)]
            pos += 3 * n_fields
            dev_bytes = 0
            if header & 0x20:
                n_dev = out[pos]
                pos += 1
                dev_bytes = sum(out[pos + 3 * i + 1] for i in range(n_dev))
                pos += 3 * n_dev
            defs[local] = (global_num, endian, fields, dev_bytes)
            continue
        else:
            local = header & 0x0F
        if local not in defs:
            raise ValueError("data message without a definition")
        global_num, endian, fields, dev_bytes = defs[local]
        for num, size in fields:
            if size == 4 and (num == _TIMESTAMP or (global_num, num) in _DATETIME_FIELDS):
                value = struct.unpack_from(endian + "I", out, pos)[0]
                if value != FIT_INVALID_U32 and value >= FIT_MIN_ABSOLUTE:
                    struct.pack_into(endian + "I", out, pos, (value + delta) & 0xFFFFFFFF)
            pos += size
        pos += dev_bytes
