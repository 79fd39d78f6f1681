"""Pinned test vectors for the formulas (reference/readiness-science.md, Part 3)."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from sync.fit.trimp import banister_trimp, edwards_trimp
from sync.fit.types import TrimpAthlete
from sync.readiness import acwr_from_daily_load, ewma_lambda, ewma_series, zone2_top
from sync.readiness.baselines import load_ratio


@pytest.mark.parametrize(("sex", "expected"), [("male", 75.33), ("female", 85.14)])
def test_banister_trimp(sex: str, expected: float) -> None:
    """S23: 45 min at HRavg 150, rest 60, max 190 (HRr 0.692308)."""
    profile = TrimpAthlete(sex=sex, max_hr=190, rest_hr=60)  # type: ignore[arg-type]
    assert round(banister_trimp(45, 150, profile), 2) == expected


def test_edwards_trimp() -> None:
    """S24: 10/20/15/5/0 minutes in zones 1-5 -> 10 + 40 + 45 + 20 = 115."""
    assert edwards_trimp([10, 20, 15, 5, 0]) == 115


@pytest.mark.parametrize(("n", "lam"), [(7, 0.25), (28, 0.068966)])
def test_ewma_lambda(n: int, lam: float) -> None:
    """S15: lambda = 2 / (N + 1)."""
    assert round(ewma_lambda(n), 6) == lam


def test_ewma_lambda_rejects_zero() -> None:
    with pytest.raises(ValueError):
        ewma_lambda(0)


def test_ewma_series_is_seeded_with_the_first_value() -> None:
    assert ewma_series([], 7) == []
    out = ewma_series([100, 0, 0], 7)
    assert out == [100.0, 75.0, 56.25]


def test_fitness_fatigue_decay_constants() -> None:
    """S26 pins, for the report: 1 - e^(-1/42) and 1 - e^(-1/7)."""
    assert round(1 - math.exp(-1 / 42), 6) == 0.023528
    assert round(1 - math.exp(-1 / 7), 6) == 0.133122


def test_acwr_constant_load_is_one_and_missing_days_are_zero() -> None:
    day = date(2026, 3, 10)
    flat = {day - timedelta(days=i): 60.0 for i in range(28)}
    assert acwr_from_daily_load(flat, day) == pytest.approx(1.0)
    # a gap is a zero-load day: it lowers the acute EWMA more than the chronic one
    gappy = dict(flat)
    del gappy[day]
    ratio = load_ratio(gappy, day)
    assert ratio is not None and ratio.days == 28
    assert ratio.acute == pytest.approx(ewma_series([60.0] * 27 + [0.0], 7)[-1])
    assert ratio.acwr is not None and ratio.acwr < 1.0


def test_acwr_ignores_days_after_d_and_needs_history() -> None:
    day = date(2026, 3, 10)
    loads = {day - timedelta(days=i): 60.0 for i in range(28)}
    loads[day + timedelta(days=1)] = 10_000.0
    assert acwr_from_daily_load(loads, day) == pytest.approx(1.0)
    assert acwr_from_daily_load({day: 50.0}, day) is None


def test_zone2_top() -> None:
    assert zone2_top(190, 50) == 148
    assert zone2_top(185, 45, 0.75) == 150
