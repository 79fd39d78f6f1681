"""Request and response shapes of the JSON API (documented in /openapi.json)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from sync.readiness import Verdict


class VerdictOut(Verdict):
    """The verdict as `legday verdict --json` prints it, plus the date it is for."""

    date: dt.date = Field(description="The athlete-local date of the verdict (same as `day`).")
    updated: str | None = Field(
        default=None,
        description="A day's verdict (`/verdicts/today`, `/verdicts/{day}`) is the one its morning "
        "message said; null, or a later change of flag in the athlete's time: "
        "'updated at 09:12: REST (soreness 8/10)'.",
    )
    latest: Verdict | None = Field(
        default=None, description="The newer verdict that `updated` describes (with its `date`), else null."
    )


class VerdictList(BaseModel):
    """Stored verdicts in a date range, oldest first (days without a verdict are left out)."""

    verdicts: list[VerdictOut]


class WatchOut(BaseModel):
    """The watch feed: under 300 bytes."""

    flag: str = Field(description="RUN, EASY or REST.")
    date: dt.date
    advice: str = Field(max_length=60, description="One line, at most 60 characters.")
    max_minutes: int | None = Field(description="Duration cap of an EASY run.")
    max_hr: int | None = Field(description="Heart-rate cap (top of zone 2); null when not capped.")
    updated: str | None = Field(
        description="null, or a change after the day's morning message, in the athlete's time: "
        "'updated at 09:12: REST (soreness 8/10)'. `flag` stays the morning's."
    )


class SorenessIn(BaseModel):
    """How sore the legs are: 0 (not at all) to 10 (can barely walk)."""

    model_config = ConfigDict(extra="forbid")

    value: int = Field(ge=0, le=10, strict=True, description="0 (not at all) to 10 (can barely walk).")
    date: dt.date | None = Field(None, description="Athlete-local date; default today.")


class Problem(BaseModel):
    """An error: `detail` says what went wrong."""

    detail: str


class Health(BaseModel):
    """`status` ok or down, and each dependency's state."""

    status: str
    checks: dict[str, str]
