"""The readiness model: should the athlete run tomorrow after leg day? RUN, EASY or REST.

Pure and deterministic: a `DayContext` (plain data) in, a `Verdict` out; no I/O, no database.

    from sync.readiness import DayContext, evaluate
    verdict = evaluate(DayContext.model_validate(data))
"""

from __future__ import annotations

from sync.readiness.baselines import acwr_from_daily_load, ewma_lambda, ewma_series
from sync.readiness.context import (
    AthleteInput,
    ContextError,
    DayContext,
    SessionInput,
    SetInput,
    context_from_json,
    context_from_json_bytes,
)
from sync.readiness.prescription import zone2_top
from sync.readiness.rules import MODEL_VERSION, decide, evaluate
from sync.readiness.thresholds import DEFAULT_THRESHOLDS, Thresholds, ThresholdsError, layered_thresholds
from sync.readiness.verdict import Flag, Prescription, Reason, Verdict

__all__ = [
    "DEFAULT_THRESHOLDS",
    "MODEL_VERSION",
    "AthleteInput",
    "ContextError",
    "DayContext",
    "Flag",
    "Prescription",
    "Reason",
    "SessionInput",
    "SetInput",
    "Thresholds",
    "ThresholdsError",
    "Verdict",
    "acwr_from_daily_load",
    "context_from_json",
    "context_from_json_bytes",
    "decide",
    "evaluate",
    "layered_thresholds",
    "ewma_lambda",
    "ewma_series",
    "zone2_top",
]
