"""`DayContext`: the readiness model's whole input, as plain data.

Its JSON form is the `context` object of a scenario file (see ../shared/scenarios/README.md):
every key but `now` is optional, and a missing key means "not known" (its rule is skipped).
Nothing here does I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from sync.fit.exercises import hard_lower_body_sets, lower_body_weight
from sync.readiness.thresholds import summarize_errors

__all__ = [
    "AthleteInput",
    "ContextError",
    "DayContext",
    "SessionInput",
    "SetInput",
    "context_from_json",
    "context_from_json_bytes",
]

# FIT's "invalid" exercise category: the watch did not know what the set was.
UNKNOWN_CATEGORY = "unknown"
_UNKNOWN_CATEGORY_NUMBERS = {"65534", "65535"}


_TIME_FIELDS = frozenset({"now", "end"})


class ContextError(ValueError):
    """A context that cannot be evaluated; the message is one readable line."""


class _Model(BaseModel):
    # Typos in a hand-written "what if?" file should fail loudly, not be ignored; numbers must
    # be finite (NaN/Infinity are not JSON and would switch rules off).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _plain_types(cls, data: Any) -> Any:
        # JSON `true` is not a number here (pydantic would read it as 1), and a bare number is
        # not a time (it would be read as seconds since 1970).
        if isinstance(data, Mapping):
            for name, value in data.items():
                field = cls.model_fields.get(str(name))
                if field is None:
                    continue
                if isinstance(value, bool) and field.annotation is not bool:
                    raise ValueError(f"{name}: must not be true/false")
                if name in _TIME_FIELDS and isinstance(value, int | float):
                    raise ValueError(f"{name}: must be an ISO 8601 time with its UTC offset, as a string")
                if isinstance(value, Mapping) and any(isinstance(v, bool) for v in value.values()):
                    raise ValueError(f"{name}: values must be numbers, not true/false")
        return data


class AthleteInput(_Model):
    """What the model needs to know about the athlete (sex for TRIMP, HR for the EASY cap)."""

    sex: Literal["male", "female"] | None = None
    max_hr: int | None = Field(None, ge=100, le=250)
    rest_hr: int | None = Field(None, ge=25, le=120)
    body_mass_kg: float | None = Field(None, gt=0, le=400)

    @field_validator("sex", mode="before")
    @classmethod
    def _lower_sex(cls, v: Any) -> Any:
        return v.strip().lower() if isinstance(v, str) else v

    @model_validator(mode="after")
    def _hr_order(self) -> AthleteInput:
        if self.max_hr is not None and self.rest_hr is not None and self.max_hr <= self.rest_hr:
            raise ValueError("max_hr must be above rest_hr")
        return self


class SetInput(_Model):
    """One set of a strength session. `category` is a FIT exercise_category name."""

    category: str = UNKNOWN_CATEGORY
    reps: int | None = Field(None, ge=0)
    weight_kg: float | None = Field(None, ge=0)
    set_type: Literal["active", "rest"] = "active"
    exercise: str | None = None
    warm_up: bool = False

    @field_validator("category", mode="before")
    @classmethod
    def _norm_category(cls, v: Any) -> Any:
        if v is None:
            return UNKNOWN_CATEGORY
        if isinstance(v, int) and not isinstance(v, bool):
            v = str(v)
        if isinstance(v, str):
            v = v.strip().lower() or UNKNOWN_CATEGORY
            return UNKNOWN_CATEGORY if v in _UNKNOWN_CATEGORY_NUMBERS else v
        return v

    @field_validator("set_type", mode="before")
    @classmethod
    def _norm_set_type(cls, v: Any) -> Any:
        return v.strip().lower() if isinstance(v, str) else v

    @property
    def is_hard(self) -> bool:
        """An active, non-warm-up set: the only kind that can count as lower-body work."""
        return self.set_type == "active" and not self.warm_up

    @property
    def lower_body(self) -> float:
        """How much this set counts as a lower-body hard set: 1, 0.5 or 0."""
        return lower_body_weight(self.category) if self.is_hard else 0.0

    @property
    def unclassified(self) -> bool:
        """A hard set the watch could not classify (never counts as lower body)."""
        return self.is_hard and self.category == UNKNOWN_CATEGORY


class SessionInput(_Model):
    """One strength activity: when it ended and its sets."""

    end: AwareDatetime
    sets: list[SetInput] = Field(default_factory=list)

    @property
    def lb_sets(self) -> float:
        """Lower-body hard sets (total_body counts half)."""
        return hard_lower_body_sets((s.category, s.is_hard) for s in self.sets)

    @property
    def lb_categories(self) -> list[str]:
        """Lower-body categories of the session, in order of first appearance."""
        seen: dict[str, None] = {}
        for s in self.sets:
            if s.lower_body > 0:
                seen.setdefault(s.category, None)
        return list(seen)

    @property
    def unclassified_sets(self) -> int:
        """Hard sets whose category is unknown."""
        return sum(1 for s in self.sets if s.unclassified)


class DayContext(_Model):
    """Everything the readiness model reads for one athlete-day. Only `now` is required.

    D, the day the verdict is for, is `now`'s calendar date in its own UTC offset.
    """

    now: AwareDatetime
    athlete: AthleteInput | None = None
    strength: list[SessionInput] | None = None
    soreness: float | None = Field(None, ge=0, le=10)
    hrv_ms: dict[date, float] | None = None
    hrv_status: str | None = None
    resting_hr: dict[date, float] | None = None
    sleep_hours: float | None = Field(None, ge=0, le=24)
    daily_load: dict[date, float] | None = None
    acwr: float | None = Field(None, ge=0)
    garmin_recovery_hours: float | None = Field(None, ge=0)
    # The athlete's Garmin data comes through Garmin's official Personal API, which has no
    # Training Readiness or recovery time and no Garmin-edited exercise sets: the verdict says
    # so instead of listing them as merely missing.
    garmin_personal_api: bool = False

    @field_validator("now")
    @classmethod
    def _plausible_year(cls, v: Any) -> Any:
        # A year like 0001 or 9999 would overflow the model's look-back and look-ahead windows.
        if not 1900 <= v.year <= 2999:
            raise ValueError(f"now: year {v.year} is outside 1900-2999")
        return v

    @field_validator("hrv_status", mode="before")
    @classmethod
    def _upper_status(cls, v: Any) -> Any:
        if isinstance(v, str):
            return v.strip().upper() or None
        return v

    @field_validator("hrv_ms", "resting_hr")
    @classmethod
    def _positive_values(cls, v: dict[date, float] | None) -> dict[date, float] | None:
        if v is not None:
            bad = [d.isoformat() for d, x in v.items() if not x > 0]
            if bad:
                raise ValueError(f"values must be > 0 (bad dates: {', '.join(sorted(bad))})")
        return v

    @field_validator("daily_load")
    @classmethod
    def _non_negative_load(cls, v: dict[date, float] | None) -> dict[date, float] | None:
        if v is not None:
            bad = [d.isoformat() for d, x in v.items() if not x >= 0]
            if bad:
                raise ValueError(f"loads must be >= 0 (bad dates: {', '.join(sorted(bad))})")
        return v

    @property
    def day(self) -> date:
        """D: the calendar date of `now` in its own offset."""
        return self.now.date()


def context_from_json(data: Any) -> DayContext:
    """Build a `DayContext` from a scenario object (with a `context` key) or a bare context.

    Raises `ContextError` with one readable line when the data is not a valid context.
    """
    if isinstance(data, Mapping) and "context" in data and "now" not in data:
        data = data["context"]
    if not isinstance(data, Mapping):
        raise ContextError("invalid context: expected a JSON object")
    try:
        return DayContext.model_validate(dict(data))
    except ValidationError as exc:
        raise ContextError(f"invalid context: {summarize_errors(exc)}") from None


def context_from_json_bytes(raw: bytes) -> DayContext:
    """Build a `DayContext` from the bytes of a JSON file (UTF-8, an optional BOM).

    Every way the bytes can be unusable ends in `ContextError` with one line: not UTF-8, not
    JSON, a number past Python's digit limit, or nesting so deep that `json.loads` itself
    raises `RecursionError` (found by fuzzing: a file of 100,000 `[` is enough).
    """
    try:
        text = bytes(raw).decode("utf-8-sig")  # a BOM from a Windows editor is harmless
    except UnicodeDecodeError as exc:
        raise ContextError(f"invalid context: not UTF-8 (byte {exc.start})") from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise ContextError("invalid context: JSON nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, and int digit limits
        raise ContextError(f"invalid context: not valid JSON ({' '.join(str(exc).split())[:200]})") from None
    try:
        return context_from_json(data)
    except RecursionError:  # validation of a deep (but parseable) value
        raise ContextError("invalid context: JSON nested too deeply") from None
