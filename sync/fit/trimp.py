"""Training-load formulas: Banister and Edwards TRIMP, session-RPE load.

Sources: reference/readiness-science.md S23 (Banister), S24 (Edwards), S25 (sRPE).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from sync.fit.types import TrimpAthlete

# Banister weighting constants by sex: TRIMP = min x HRr x a x e^(b x HRr)
BANISTER_COEFFICIENTS = {"male": (0.64, 1.92), "female": (0.86, 1.67)}
# Edwards zone weights for 50-60, 60-70, 70-80, 80-90, 90-100 % of HRmax
EDWARDS_WEIGHTS = (1, 2, 3, 4, 5)


def heart_rate_reserve_fraction(hr: float, athlete: TrimpAthlete) -> float:
    """HRr = (HR - HRrest) / (HRmax - HRrest), clamped to [0, 1]."""
    span = athlete.max_hr - athlete.rest_hr
    if span <= 0:
        return 0.0
    return min(1.0, max(0.0, (hr - athlete.rest_hr) / span))


def banister_weight(hr: float, athlete: TrimpAthlete) -> float:
    """The per-minute Banister weight HRr x a x e^(b x HRr) for one heart rate."""
    a, b = BANISTER_COEFFICIENTS[athlete.sex]
    hrr = heart_rate_reserve_fraction(hr, athlete)
    return hrr * a * math.exp(b * hrr)


def banister_trimp(minutes: float, avg_hr: float, athlete: TrimpAthlete) -> float:
    """Banister TRIMP from a duration and an average heart rate."""
    return minutes * banister_weight(avg_hr, athlete)


def trimp_from_seconds(hr_seconds: Iterable[tuple[int, float]] | None, athlete: TrimpAthlete) -> float | None:
    """Banister TRIMP from the seconds spent at each heart rate, rounded to 0.01.

    None when there is no heart rate (`hr_seconds` is None); an empty histogram is 0.0. The
    bins are summed in bpm order, so the same histogram always gives the same value.
    """
    if hr_seconds is None:
        return None
    total = 0.0
    for bpm, seconds in sorted(hr_seconds):
        total += seconds / 60.0 * banister_weight(bpm, athlete)
    return round(total, 2)


def edwards_trimp(minutes_in_zones: Sequence[float]) -> float:
    """Edwards TRIMP: minutes in each of the five HRmax zones times weights 1-5."""
    return float(sum(m * w for m, w in zip(minutes_in_zones, EDWARDS_WEIGHTS, strict=False)))


def session_rpe_load(rpe: float, minutes: float) -> float:
    """Foster's session-RPE load: RPE (0-10) x minutes."""
    return rpe * minutes
