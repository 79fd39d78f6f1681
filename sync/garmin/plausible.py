"""The ranges a value from Garmin must fall in to be kept; anything else is dropped, logged.

One bad number from Garmin (a negative HRV, 25 h of sleep) must cost that number only, never the
athlete's day. Each range sits inside what the readiness model accepts
(sync/readiness/context.py: HRV and resting HR > 0, sleep 0-24 h, recovery >= 0, the athlete's
max HR 100-250 and resting HR 25-120), narrowed to what a body and a watch can produce;
tests/unit/test_garmin_plausible.py holds the two in step. The adapter cannot import the model
(DESIGN.md s.2), hence the copy here.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import date

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Range:
    """An inclusive range of plausible values, with the unit for the log line."""

    what: str
    low: float
    high: float
    unit: str


HRV_MS = Range("HRV", 1.0, 500.0, "ms")
RESTING_HR = Range("resting HR", 25.0, 150.0, "bpm")
SLEEP_SECONDS = Range("sleep", 0.0, 24 * 3600.0, "s")
SCORE = Range("score", 0.0, 100.0, "")  # sleep score, body battery, training readiness
RECOVERY_MINUTES = Range("recovery time", 0.0, 7 * 24 * 60.0, "min")
MAX_HR = Range("max HR", 100.0, 250.0, "bpm")
ZONE_REST_HR = Range("zones' resting HR", 25.0, 120.0, "bpm")


def kept(value: object, limits: Range, day: date | None = None, what: str | None = None) -> float | None:
    """`value` as a number when it is one and inside `limits`; else None, with a logged reason.

    None (not measured) passes through silently. Booleans, strings, NaN and infinities are no
    measurement and are dropped like out-of-range numbers.
    """
    if value is None:
        return None
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if number is not None and math.isfinite(number) and limits.low <= number <= limits.high:
        return number
    when = f" for {day.isoformat()}" if day is not None else ""
    log.warning(
        "garmin: %s %r%s dropped: outside %g-%g %s",
        what or limits.what,
        value,
        when,
        limits.low,
        limits.high,
        limits.unit,
    )
    return None


def kept_int(value: object, limits: Range, day: date | None = None, what: str | None = None) -> int | None:
    """`kept`, as an int (Garmin's whole-number fields)."""
    number = kept(value, limits, day, what)
    return None if number is None else int(round(number))
