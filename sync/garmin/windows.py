"""Date windows: Garmin's range endpoints and backfill both walk history in bounded chunks."""

from __future__ import annotations

from datetime import date, timedelta


def date_windows(start: date, end: date, max_days: int) -> list[tuple[date, date]]:
    """Split [start, end] into inclusive windows of at most `max_days`, newest last."""
    out: list[tuple[date, date]] = []
    lo = start
    while lo <= end:
        hi = min(end, lo + timedelta(days=max_days - 1))
        out.append((lo, hi))
        lo = hi + timedelta(days=1)
    return out
