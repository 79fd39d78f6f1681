"""The readiness model's output: `Verdict`, with its reasons and prescription."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sync.readiness.sources import Source

__all__ = ["Flag", "Prescription", "Reason", "Verdict"]

Number = float | int | str | bool | None


class Flag(StrEnum):
    """What to do on day D, from least to most strict."""

    RUN = "RUN"
    EASY = "EASY"
    REST = "REST"

    @property
    def rank(self) -> int:
        """0 for RUN, 1 for EASY, 2 for REST: a higher rank is stricter."""
        return _RANK[self]


_RANK = {Flag.RUN: 0, Flag.EASY: 1, Flag.REST: 2}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Reason(_Model):
    """One fired rule: its code, a sentence with the athlete's numbers, and its sources."""

    code: str
    text: str
    source: str


class Prescription(_Model):
    """What the athlete should actually do on D."""

    kind: Literal["run", "easy", "rest"]
    run: bool = Field(description="Whether to run at all.")
    max_minutes: int | None = Field(None, description="Duration cap of an EASY run.")
    hr_cap_bpm: int | None = Field(None, description="Heart-rate cap: top of zone 2.")
    warmup_minutes: int | None = Field(None, description="Minimum warm-up (EASY).")
    summary: str = Field(description="One line: what to do.")
    advice: list[str] = Field(default_factory=list)
    why: str | None = Field(None, description="REST: which rule made it a rest day.")
    note: str | None = Field(None, description="RUN: spacing note after a 48-72 h old leg day.")


class Verdict(_Model):
    """The model's answer for one athlete-day."""

    flag: Flag
    day: date = Field(description="D: the athlete-local date the verdict is for.")
    codes: list[str] = Field(description="Fired reason codes, in a fixed order.")
    reasons: list[Reason] = Field(
        description="What is shown: one per code, except that a more severe code replaces its milder "
        "sibling (RHR_VERY_HIGH hides RHR_HIGH)."
    )
    sources: list[Source] = Field(
        default_factory=list, description="What the shown reasons' source tags stand for."
    )
    unknown: list[str] = Field(description="Inputs the model did not have (rules skipped).")
    numbers: dict[str, Number] = Field(description="The numbers the rules used.")
    prescription: Prescription
    unclassified_sets: int = Field(
        0, description="Hard sets with category unknown in the recent sessions (not counted)."
    )
    notes: list[str] = Field(default_factory=list, description="Extra lines for the athlete.")
    thresholds: dict[str, Number] = Field(
        default_factory=dict, description="Thresholds that differ from the defaults."
    )
    model_version: str

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (dates as ISO strings, the flag as its name)."""
        return self.model_dump(mode="json")
