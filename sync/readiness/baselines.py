"""Rolling baselines the rules compare against: HRV (ln RMSSD), resting HR, and ACWR.

All functions are pure: plain dicts of date -> value in, small frozen results out.
Sources: S15 (EWMA ACWR), S19-S20 (weekly ln RMSSD, 60-day normal range), S21-S22 (RHR).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = [
    "HrvBaseline",
    "LoadRatio",
    "RhrBaseline",
    "acwr_from_daily_load",
    "ewma_lambda",
    "ewma_series",
    "hrv_baseline",
    "load_ratio",
    "rhr_baseline",
]


def ewma_lambda(n: int) -> float:
    """The EWMA decay for an N-day window: lambda = 2 / (N + 1) (S15)."""
    if n < 1:
        raise ValueError("n must be >= 1")
    return 2.0 / (n + 1)


def ewma_series(values: Iterable[float], n: int) -> list[float]:
    """Exponentially weighted moving average of `values`, seeded with the first value.

    e[0] = x[0];  e[t] = lambda * x[t] + (1 - lambda) * e[t-1],  lambda = 2 / (N + 1).
    """
    lam = ewma_lambda(n)
    out: list[float] = []
    for x in values:
        out.append(float(x) if not out else lam * x + (1.0 - lam) * out[-1])
    return out


@dataclass(frozen=True)
class LoadRatio:
    """Acute and chronic EWMA of daily load on day D, and their ratio."""

    acute: float
    chronic: float
    days: int  # length of the daily series used

    @property
    def acwr(self) -> float | None:
        """acute / chronic, or None when the chronic load is zero."""
        return self.acute / self.chronic if self.chronic > 0 else None


def daily_series(daily_load: Mapping[date, float], day: date) -> list[float]:
    """The daily series from the first listed day to `day` inclusive; unlisted days are 0."""
    days = [d for d in daily_load if d <= day]
    if not days:
        return []
    first = min(days)
    return [float(daily_load.get(first + timedelta(days=i), 0.0)) for i in range((day - first).days + 1)]


def load_ratio(
    daily_load: Mapping[date, float],
    day: date,
    acute_n: int = 7,
    chronic_n: int = 28,
    min_history_days: int = 28,
) -> LoadRatio | None:
    """Acute/chronic EWMA loads on `day`, or None without enough history.

    Enough history means a listed day on or before `day - (min_history_days - 1)` (D-27 by
    default), so the chronic average has seen four weeks.
    """
    oldest_needed = day - timedelta(days=min_history_days - 1)
    if not any(d <= oldest_needed for d in daily_load):
        return None
    series = daily_series(daily_load, day)
    return LoadRatio(
        acute=ewma_series(series, acute_n)[-1],
        chronic=ewma_series(series, chronic_n)[-1],
        days=len(series),
    )


def acwr_from_daily_load(
    daily_load: Mapping[date, float],
    day: date,
    acute_n: int = 7,
    chronic_n: int = 28,
    min_history_days: int = 28,
) -> float | None:
    """ACWR = EWMA_acute / EWMA_chronic of daily load on `day` (None when not computable)."""
    ratio = load_ratio(daily_load, day, acute_n, chronic_n, min_history_days)
    return ratio.acwr if ratio else None


@dataclass(frozen=True)
class HrvBaseline:
    """HRV on ln(RMSSD): the rolling week against the long baseline."""

    baseline_nights: int
    week_nights: int
    baseline_mean_ln: float | None  # None below the nights needed
    baseline_sd_ln: float | None
    week_mean_ln: float | None

    def lower_bound_ln(self, sd_factor: float) -> float | None:
        """Bottom of the normal range: mean - factor x SD."""
        if self.baseline_mean_ln is None or self.baseline_sd_ln is None:
            return None
        return self.baseline_mean_ln - sd_factor * self.baseline_sd_ln


def _window(values: Mapping[date, float], first: date, last: date) -> list[float]:
    return [v for d, v in sorted(values.items()) if first <= d <= last]


def hrv_baseline(
    hrv_ms: Mapping[date, float],
    day: date,
    baseline_days: int = 60,
    baseline_min_nights: int = 14,
    week_days: int = 7,
    week_min_nights: int = 3,
) -> HrvBaseline:
    """Baseline from nights D-60 .. D-1 (mean, sample SD), week from D-6 .. D, on ln(ms)."""
    base = [
        math.log(v) for v in _window(hrv_ms, day - timedelta(days=baseline_days), day - timedelta(days=1))
    ]
    week = [math.log(v) for v in _window(hrv_ms, day - timedelta(days=week_days - 1), day)]
    have_base = len(base) >= max(baseline_min_nights, 2)  # a sample SD needs two nights
    return HrvBaseline(
        baseline_nights=len(base),
        week_nights=len(week),
        baseline_mean_ln=statistics.fmean(base) if have_base else None,
        baseline_sd_ln=statistics.stdev(base) if have_base else None,
        week_mean_ln=statistics.fmean(week) if len(week) >= week_min_nights else None,
    )


@dataclass(frozen=True)
class RhrBaseline:
    """Resting HR on D against the mean of the days before it."""

    today: float | None
    mean: float | None  # None below the values needed
    values: int

    @property
    def delta(self) -> float | None:
        """today - mean (bpm), rounded to 6 decimals so +5.0 is exactly +5.0."""
        if self.today is None or self.mean is None:
            return None
        return round(self.today - self.mean, 6)


def rhr_baseline(
    resting_hr: Mapping[date, float], day: date, baseline_days: int = 30, min_values: int = 7
) -> RhrBaseline:
    """Resting HR for `day` vs the mean of D-30 .. D-1 (needs `min_values` values)."""
    past: Sequence[float] = _window(resting_hr, day - timedelta(days=baseline_days), day - timedelta(days=1))
    return RhrBaseline(
        today=resting_hr.get(day),
        mean=statistics.fmean(past) if len(past) >= min_values else None,
        values=len(past),
    )
