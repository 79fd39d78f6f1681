"""Training-load formulas: Banister and Edwards TRIMP, session-RPE load.

Sources: reference/readiness-science.md S23 (Banister), S24 (Edwards), S25 (sRPE).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

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


class TrimpAccumulator:
    """Banister TRIMP summed sample by sample, so a HR series never has to be held in memory.

    Each sample weighs the time until the next one; gaps longer than `max_gap_s` (watch
    paused, recording gap) count only `max_gap_s`.
    """

    def __init__(self, athlete: TrimpAthlete, max_gap_s: float = 10.0) -> None:
        self.athlete = athlete
        self.max_gap_s = max_gap_s
        self.total = 0.0
        self.samples = 0
        self._last: tuple[float, float] | None = None  # (t seconds, hr)
        # banister_weight is a pure function of the HR for one athlete, and a recording has
        # a few dozen distinct HR values over thousands of samples: computed once each
        self._weights: dict[float, float] = {}

    def add(self, t_seconds: float, hr: float | None) -> None:
        """Add one heart-rate sample at time `t_seconds` (any monotonic origin)."""
        if hr is None or hr <= 0:
            return
        if self._last is not None:
            t0, hr0 = self._last
            dt = t_seconds - t0
            if dt > 0:
                weight = self._weights.get(hr0)
                if weight is None:
                    weight = self._weights[hr0] = banister_weight(hr0, self.athlete)
                self.total += min(dt, self.max_gap_s) / 60.0 * weight
        self._last = (t_seconds, hr)
        self.samples += 1

    def result(self) -> float | None:
        """The TRIMP so far, or None when there were fewer than two samples."""
        return round(self.total, 2) if self.samples >= 2 else None


def edwards_trimp(minutes_in_zones: Sequence[float]) -> float:
    """Edwards TRIMP: minutes in each of the five HRmax zones times weights 1-5."""
    return float(sum(m * w for m, w in zip(minutes_in_zones, EDWARDS_WEIGHTS, strict=False)))


def session_rpe_load(rpe: float, minutes: float) -> float:
    """Foster's session-RPE load: RPE (0-10) x minutes."""
    return rpe * minutes
