"""Damaged FIT bytes: the only outcomes are a DecodedFile or a FitDecodeError."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.errors import FitDecodeError
from sync.fit import DecodedFile, decode_fit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fit"
SOURCES = [
    (FIXTURES / name).read_bytes()
    for name in (
        "fenix5-run-short-01.fit",
        "fenix6x-yoga-sets-01.fit",
        "edge820-cycling-commute-01.fit",
        "sdk-activity-bad-file-crc-01.fit",
    )
]
PROFILE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(data: bytes) -> None:
    try:
        result = decode_fit(data)
    except FitDecodeError as exc:
        assert exc.reason and "\n" not in exc.reason
    else:
        assert isinstance(result, DecodedFile)


@PROFILE
@given(source=st.sampled_from(SOURCES), cut=st.floats(min_value=0.0, max_value=1.0))
def test_truncated(source: bytes, cut: float) -> None:
    _check(source[: int(len(source) * cut)])


@PROFILE
@given(
    source=st.sampled_from(SOURCES),
    flips=st.lists(
        st.tuples(st.floats(0.0, 1.0, exclude_max=True), st.integers(0, 7)), min_size=1, max_size=4
    ),
)
def test_bit_flipped(source: bytes, flips: list[tuple[float, int]]) -> None:
    data = bytearray(source)
    for where, bit in flips:
        data[int(where * len(data))] ^= 1 << bit
    _check(bytes(data))


@PROFILE
@given(data=st.binary(max_size=64))
def test_random_bytes(data: bytes) -> None:
    _check(data)


@PROFILE
@given(source=st.sampled_from(SOURCES), header=st.binary(min_size=14, max_size=14))
def test_garbled_header(source: bytes, header: bytes) -> None:
    _check(header + source[14:])
