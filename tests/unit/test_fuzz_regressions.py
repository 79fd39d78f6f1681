"""Inputs the fuzzer once broke: each must now end in legday's own error, never a traceback.

The hand-built cases name what the fuzzer found (each written before its fix); the saved
inputs in tests/fixtures/fuzz/ are replayed as they were found, in a child process under a
memory cap (see testkit/fuzz_harness.py).
"""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

from sync.errors import UnsafeArchiveError
from sync.ingest.archive import ArchiveLimits, iter_fit_members, safe_extract_single_fit
from sync.readiness import ContextError, DayContext, context_from_json_bytes, evaluate
from testkit.fuzz_harness import FUZZ_FIXTURES, run_in_child
from testkit.helpers import RUN_FIT

CENTRAL = b"PK\x01\x02"


def _one_member_zip(name: str = "1.fit") -> bytearray:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, RUN_FIT.read_bytes())
    return bytearray(buf.getvalue())


def _corrupt_deflate() -> bytes:
    data = _one_member_zip()
    start = 30 + len("1.fit")  # the member's compressed bytes follow its local header
    data[start] = 0xFF  # block type 3 is reserved: zlib refuses the stream
    return bytes(data)


def _central_field(offset: int, fmt: str, value: int) -> bytes:
    data = _one_member_zip()
    at = data.index(CENTRAL) + offset
    struct.pack_into(fmt, data, at, value)
    return bytes(data)


DAMAGED = {
    "corrupt deflate stream (zlib.error)": _corrupt_deflate(),
    "unknown compression method 99 (NotImplementedError)": _central_field(10, "<H", 99),
    "needs zip version 12.7 (NotImplementedError at open)": _central_field(6, "<B", 127),
    "encrypted member (RuntimeError)": _central_field(8, "<H", 0x0001),
}


@pytest.mark.parametrize("data", DAMAGED.values(), ids=DAMAGED.keys())
def test_damaged_download_zip_is_refused_with_a_reason(data: bytes) -> None:
    with pytest.raises(UnsafeArchiveError) as info:
        safe_extract_single_fit(data)
    assert info.value.reason and "\n" not in info.value.reason


@pytest.mark.parametrize("data", DAMAGED.values(), ids=DAMAGED.keys())
def test_damaged_export_member_is_refused_not_raised(data: bytes) -> None:
    try:
        members = list(iter_fit_members(data, ArchiveLimits()))
    except UnsafeArchiveError as exc:  # the archive as a whole is unreadable: also a reason
        assert exc.reason
        return
    assert [m.name for m in members] == ["1.fit"]
    assert members[0].data is None and members[0].refused


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"now": "2026-03-11T06:30:00Z", "hrv_status": "\xff"}', "not UTF-8"),
        (b'{"now": ', "not valid JSON"),
        (b'{"now": ' + b"9" * 5000 + b"}", "not valid JSON"),
        (b"[]", "expected a JSON object"),
    ],
)
def test_context_bytes_fail_with_one_line(raw: bytes, expected: str) -> None:
    with pytest.raises(ContextError, match=expected) as info:
        context_from_json_bytes(raw)
    assert "\n" not in str(info.value) and len(str(info.value)) < 400


@pytest.mark.parametrize(
    "now",
    ["0001-01-02T03:00:00+14:00", "0001-01-01T00:00:00+00:00", "0001-12-31T00:00:00Z", "1899-12-31T23:00Z"],
)
def test_a_now_before_1900_is_refused_not_an_overflow(now: str) -> None:
    # Found by the context fuzz: the model looks back up to a year from `now`, so a `now` in
    # year 1 raised OverflowError from inside evaluate().
    with pytest.raises(ContextError, match="now"):
        context_from_json_bytes(f'{{"now": "{now}"}}'.encode())


@pytest.mark.parametrize(
    "context",
    [
        '{"now": "9999-12-31T23:59:59-12:00"}',
        '{"now": "1900-01-01T00:00:00+14:00", "hrv_ms": {"0001-01-01": 40}}',
        '{"now": "2026-03-11T06:30:00Z", "strength": [{"end": "0001-01-01T00:00:00+14:00", "sets": []}]}',
        '{"now": "2026-03-11T06:30:00Z", "strength": [{"end": "9999-12-31T23:59:59-12:00", "sets": []}]}',
    ],
)
def test_extreme_but_accepted_times_get_a_verdict_or_a_reason(context: str) -> None:
    try:
        ctx = context_from_json_bytes(context.encode())
    except ContextError as exc:
        assert "\n" not in str(exc)
    else:
        assert evaluate(ctx).flag is not None


def test_context_bytes_read_a_scenario_with_a_bom() -> None:
    ctx = context_from_json_bytes(b'\xef\xbb\xbf{"context": {"now": "2026-03-11T06:30:00+01:00"}}')
    assert isinstance(ctx, DayContext) and ctx.day.isoformat() == "2026-03-11"


def test_saved_fuzz_inputs_replay_without_a_crash() -> None:
    saved = sorted(FUZZ_FIXTURES.glob("*.bin"))
    assert saved, "tests/fixtures/fuzz/ holds the inputs that once failed"
    summaries = list(run_in_child("--replay", str(FUZZ_FIXTURES), "--memory-mib", "1024", timeout=600))
    assert sum(s["inputs"] for s in summaries) == len(saved)
    failures = [f for s in summaries for f in s["failures"]]
    assert failures == []
