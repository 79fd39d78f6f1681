"""Which refused downloads are worth fetching again, and the date windows history is cut into."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from sync.errors import UnsafeArchiveError
from sync.garmin.windows import date_windows
from sync.ingest.archive import safe_extract_single_fit
from testkit.helpers import RUN_FIT, make_zip


def test_unsafe_archive_error_is_permanent_unless_told() -> None:
    plain = UnsafeArchiveError("two members")  # the old one-argument form still works
    assert plain.reason == "two members" and plain.retryable is False
    assert UnsafeArchiveError("cut short", retryable=True).retryable is True


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_download_is_retryable(cut: float) -> None:
    whole = make_zip({"1_ACTIVITY.fit": RUN_FIT.read_bytes()})
    with pytest.raises(UnsafeArchiveError) as info:
        safe_extract_single_fit(whole[: int(len(whole) * cut)])
    assert info.value.retryable, info.value.reason


def test_damaged_member_is_retryable() -> None:
    data = bytearray(make_zip({"1_ACTIVITY.fit": RUN_FIT.read_bytes()}))
    middle = len(data) // 2  # inside the deflated member: the CRC check fails on reading
    data[middle] ^= 0xFF
    with pytest.raises(UnsafeArchiveError) as info:
        safe_extract_single_fit(bytes(data))
    assert info.value.retryable, info.value.reason


@pytest.mark.parametrize(
    "members",
    [
        {"a.fit": b"x", "b.fit": b"y"},
        {"../evil.fit": b"x"},
        {"1_ACTIVITY.txt": b"x"},
    ],
)
def test_hostile_or_wrong_zip_is_refused_for_good(members: dict[str, bytes]) -> None:
    with pytest.raises(UnsafeArchiveError) as info:
        safe_extract_single_fit(make_zip(members))
    assert info.value.retryable is False


def test_date_windows_cover_the_range_without_gaps() -> None:
    start = date(2025, 1, 1)
    windows = date_windows(start, start + timedelta(days=59), 28)
    assert windows == [
        (date(2025, 1, 1), date(2025, 1, 28)),
        (date(2025, 1, 29), date(2025, 2, 25)),
        (date(2025, 2, 26), date(2025, 3, 1)),
    ]
    assert date_windows(start, start, 28) == [(start, start)]
    assert date_windows(start, start - timedelta(days=1), 28) == []
