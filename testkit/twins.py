"""Twins: byte-different copies of the same FIT recordings, and the race of importing both.

A twin is what a watch copy and an export copy of one recording look like to legday: other
bytes (another SHA-256), the same first session start and sport. Two ways are used, so both
"bad CRC, data used" and clean files take part:

- a 14-byte header with a header CRC gets that CRC set to 0 ("not computed", which the FIT
  protocol allows) and the file CRC recomputed: a clean file with other bytes;
- any other file gets its trailing file CRC inverted: decoded with `crc_ok = False`.

`import_twins_at_once` runs `legday import` on two twin folders in two processes started
together, the way a user's watch sync and an export import may meet; the test suite and
`bench/soak_import.py` share it.
"""

from __future__ import annotations

import re
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sync.fit.crc import fit_crc
from sync.fit.decode import decode_fit
from sync.fit.types import DecodedFile

ROOT = Path(__file__).resolve().parents[1]
COUNTS = re.compile(r"imported (\d+), already known (\d+), quarantined (\d+)")


def twin_bytes(data: bytes) -> bytes:
    """Other bytes, same recording (see the module docstring for how)."""
    header_size = data[0]
    (data_size,) = struct.unpack_from("<I", data, 4)
    single = header_size + data_size + 2 == len(data)  # not a chained file
    if header_size == 14 and data[12:14] != b"\x00\x00" and single:
        body = data[:12] + b"\x00\x00" + data[14:-2]
        return body + struct.pack("<H", fit_crc(body))
    return data[:-2] + bytes([data[-2] ^ 0xFF, data[-1] ^ 0xFF])


def recording_of(decoded: DecodedFile) -> tuple[int, str] | None:
    """The same-recording key legday applies: first session start (s) and sport."""
    if not decoded.sessions:
        return None
    first = decoded.sessions[0]
    return int(first.start.timestamp()), first.sport


@dataclass(frozen=True)
class TwinSet:
    """Two folders of twins and what importing either one alone stores."""

    left: Path
    right: Path
    recordings: int  # distinct recordings (raw files stored once each)
    activities: int  # their sessions


def make_twin_folders(sources: list[Path], root: Path) -> TwinSet:
    """`root/left` holds the files as they are, `root/right` their twins, under the same names."""
    left, right = root / "left", root / "right"
    left.mkdir(parents=True)
    right.mkdir(parents=True)
    sessions: dict[tuple[int, str], int] = {}
    for src in sources:
        data = src.read_bytes()
        key = recording_of(decode_fit(data))
        if key is None or key in sessions:
            continue  # no session to key on, or a copy of one already taken
        sessions[key] = len(decode_fit(data).sessions)
        twin = twin_bytes(data)
        assert twin != data and recording_of(decode_fit(twin)) == key
        (left / src.name).write_bytes(data)
        (right / src.name).write_bytes(twin)
    return TwinSet(left, right, len(sessions), sum(sessions.values()))


@dataclass(frozen=True)
class ImportRun:
    """One `legday import` child: exit code, its counts line, stderr."""

    code: int
    imported: int
    known: int
    quarantined: int
    stderr: str


def _counts(proc: subprocess.Popen[str]) -> ImportRun:
    out, err = proc.communicate(timeout=600)
    m = COUNTS.search(out)
    imported, known, quarantined = (int(g) for g in m.groups()) if m else (-1, -1, -1)
    return ImportRun(proc.returncode, imported, known, quarantined, (err or out)[-2000:])


def import_twins_at_once(twins: TwinSet, athlete: str, env: dict[str, str]) -> tuple[ImportRun, ImportRun]:
    """`legday import --athlete A left` and `... right` in two processes started together."""
    command = [sys.executable, "-c", "from sync.cli import main; main()", "import", "--athlete", athlete]
    procs = [
        subprocess.Popen(
            [*command, str(folder)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for folder in (twins.left, twins.right)
    ]
    first, second = (_counts(p) for p in procs)
    return first, second
