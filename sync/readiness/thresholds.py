"""Every number the readiness model decides with, in one place.

`Thresholds()` holds the v1 defaults (DESIGN.md section 4); an athlete's stored overrides
(a JSON object) are applied with `Thresholds.with_overrides`. Sources for each default are in
reference/readiness-science.md (S-numbers in the field descriptions).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class ThresholdsError(ValueError):
    """Overrides that are not valid thresholds (unknown name, wrong type, inconsistent)."""


class Thresholds(BaseModel):
    """The readiness model's thresholds. Immutable; derive variants with `with_overrides`."""

    # Finite numbers only: `inf` would silently switch a rule off, and is not standard JSON.
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    # Leg day (S1-S8, S11): a hard lower-body session gates the next run.
    lb_sets: float = Field(6.0, gt=0, le=100, description="Hard lower-body sets that make a leg day.")
    leg_window_h: float = Field(48.0, gt=0, le=240, description="LEG_DAY while younger than this (S4).")
    novel_window_h: float = Field(72.0, gt=0, le=336, description="Window for a novel leg day (S1, S2).")
    novel_lookback_days: float = Field(
        14.0, gt=0, le=90, description="A leg day is novel with no other leg day this many days before."
    )
    # HRV (S17-S20)
    hrv_sd_factor: float = Field(0.5, ge=0, le=5, description="HRV_LOW below baseline - factor x SD.")
    hrv_baseline_days: int = Field(60, ge=2, le=365, description="Baseline nights D-60 .. D-1.")
    hrv_baseline_min_nights: int = Field(14, ge=2, le=365, description="Fewer: NO_BASELINE (S19).")
    hrv_week_days: int = Field(7, ge=1, le=31, description="Rolling week D-6 .. D.")
    hrv_week_min_nights: int = Field(3, ge=1, le=31, description="Nights needed in the week (S19).")
    # Resting HR (S21, S22)
    rhr_baseline_days: int = Field(30, ge=1, le=365, description="Resting HR baseline D-30 .. D-1.")
    rhr_min_values: int = Field(7, ge=1, le=365, description="Baseline values needed.")
    rhr_high: float = Field(5.0, gt=0, le=60, description="RHR_HIGH at >= baseline + this (bpm).")
    rhr_very_high: float = Field(10.0, gt=0, le=60, description="RHR_VERY_HIGH at >= baseline + this.")
    # Sleep (S29)
    sleep_short_h: float = Field(6.0, ge=0, le=24, description="SLEEP_SHORT below this many hours.")
    # Soreness (legday guide, S1), 0-10 scale
    sore: float = Field(4.0, ge=0, le=10, description="SORE from this rating.")
    sore_severe: float = Field(7.0, ge=0, le=10, description="SORE_SEVERE from this rating.")
    # Load (S14-S16)
    acwr_high: float = Field(1.5, gt=0, le=10, description="ACWR_HIGH above this ratio.")
    acwr_acute_days: int = Field(7, ge=1, le=90, description="N of the acute EWMA.")
    acwr_chronic_days: int = Field(28, ge=2, le=365, description="N of the chronic EWMA.")
    acwr_min_history_days: int = Field(
        28, ge=1, le=365, description="ACWR from daily load only when a day <= D-(this-1) is listed."
    )
    # Garmin (S28)
    garmin_recovery_h: float = Field(0.0, ge=0, le=168, description="GARMIN_RECOVERY above this.")
    # Freshness (scenarios/README.md): NO_RECENT_DATA when nothing is known for this many days.
    recent_data_days: int = Field(3, ge=1, le=60, description="NO_RECENT_DATA window D-(n-1) .. D.")
    # REST by accumulation
    rest_flag_count: int = Field(3, ge=1, le=5, description="REST when this many load/recovery flags.")
    # Prescription
    easy_cap_min: int = Field(30, gt=0, le=240, description="EASY run cap in minutes.")
    easy_cap_late_min: int = Field(40, gt=0, le=240, description="EASY cap once the leg day is >= 48 h.")
    warmup_min: int = Field(10, ge=0, le=60, description="Minimum warm-up of an EASY run.")
    zone2_hrr_fraction: float = Field(
        0.70, gt=0, le=1, description="Top of zone 2 = rest + fraction x (max - rest) (Karvonen)."
    )
    next_leg_day_gap_h: float = Field(
        24.0, ge=0, le=168, description="Keep hard running this far from the next leg day (S12)."
    )
    # lb_volume only (never gates): body-weight sets count this share of body mass.
    bodyweight_load_fraction: float = Field(0.6, ge=0, le=2)
    default_body_mass_kg: float = Field(70.0, gt=0, le=400)

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans(cls, v: Any) -> Any:
        # JSON `true` would otherwise pass as 1 for a number of sets or days.
        if isinstance(v, bool):
            raise ValueError("must be a number, not true/false")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Thresholds:
        if self.rhr_very_high < self.rhr_high:
            raise ValueError("rhr_very_high must be >= rhr_high")
        if self.sore_severe < self.sore:
            raise ValueError("sore_severe must be >= sore")
        if self.novel_window_h < self.leg_window_h:
            raise ValueError("novel_window_h must be >= leg_window_h")
        if self.hrv_week_min_nights > self.hrv_week_days:
            raise ValueError("hrv_week_min_nights must be <= hrv_week_days")
        if self.hrv_baseline_min_nights > self.hrv_baseline_days:
            raise ValueError("hrv_baseline_min_nights must be <= hrv_baseline_days")
        if self.rhr_min_values > self.rhr_baseline_days:
            raise ValueError("rhr_min_values must be <= rhr_baseline_days")
        return self

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> Thresholds:
        """A copy with `overrides` (e.g. an athlete's stored JSON) applied and validated.

        Raises `ThresholdsError` with one readable line for unknown names or bad values.
        """
        if not overrides:
            return self
        unknown = sorted(set(overrides) - set(type(self).model_fields))
        if unknown:
            raise ThresholdsError(f"unknown threshold(s): {', '.join(map(str, unknown))}")
        try:
            return type(self).model_validate({**self.model_dump(), **dict(overrides)})
        except ValidationError as exc:
            raise ThresholdsError(f"invalid thresholds: {summarize_errors(exc, ranges=True)}") from None

    def overridden(self) -> dict[str, Any]:
        """The fields that differ from the v1 defaults (to record with a verdict)."""
        defaults = Thresholds()
        return {k: v for k, v in self.model_dump().items() if getattr(defaults, k) != v}


def allowed_range(name: str) -> str | None:
    """The range a threshold accepts, in words ("from 0 (excluded) to 100"), if it has bounds."""
    field = Thresholds.model_fields.get(name)
    if field is None:
        return None
    low = high = None
    for m in field.metadata:
        if getattr(m, "gt", None) is not None:
            low = f"above {m.gt}"
        elif getattr(m, "ge", None) is not None:
            low = f"from {m.ge}"
        if getattr(m, "le", None) is not None:
            high = f"{m.le}"
        elif getattr(m, "lt", None) is not None:
            high = f"below {m.lt}"
    if low is None and high is None:
        return None
    return " ".join(x for x in (low, f"to {high}" if high else None) if x)


def summarize_errors(exc: ValidationError, *, ranges: bool = False) -> str:
    """One line from a pydantic error: `field.path: message; ...` (with threshold ranges)."""
    parts = []
    for err in exc.errors():
        loc = err.get("loc", ())
        where = ".".join(str(p) for p in loc) or "(root)"
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        span = allowed_range(str(loc[0])) if ranges and len(loc) == 1 else None
        given = err.get("input")
        shown = f", got {given!r}" if isinstance(given, str | int | float) and len(repr(given)) < 40 else ""
        head = "" if where == "(root)" and ": " in msg else f"{where}: "  # the message names it
        parts.append(f"{head}{msg}" + (f" (allowed: {span}{shown})" if span else ""))
    return "; ".join(parts)


DEFAULT_THRESHOLDS = Thresholds()


def layered_thresholds(*layers: Mapping[str, Any] | None) -> Thresholds:
    """The v1 defaults with each layer of overrides applied in order, validated at each step.

    The one layering rule: the deployment's LEGDAY_THRESHOLDS, then the athlete's stored
    overrides, then a one-off `-t NAME=VALUE`. Raises `ThresholdsError` on a bad layer.
    """
    thresholds = DEFAULT_THRESHOLDS
    for layer in layers:
        thresholds = thresholds.with_overrides(layer)
    return thresholds
