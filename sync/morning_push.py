"""The morning push messages in their order: the verdict first (the spine), then the sends.

Glue, like `sync/morning_email.py`: the notify package only reads verdicts, so whoever sends
passes the verdicts package's `ensure_morning_verdict_of` as the dispatcher's `prepare` hook
(the worker's `send_pushes` task does the same). This is the in-process form (CLI, tests).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sync.config import Settings
from sync.notify.push import dispatch
from sync.notify.push.dispatch import PushSummary
from sync.verdicts.policy import ensure_morning_verdict_of

__all__ = ["dispatch_due_pushes", "push_one"]


def dispatch_due_pushes(now: datetime | None = None, **options: Any) -> PushSummary:  # noqa: ANN401
    """`sync.notify.push.dispatch.dispatch_due_pushes`, each morning verdict computed first."""
    return dispatch.dispatch_due_pushes(now, prepare=ensure_morning_verdict_of, **options)


def push_one(athlete_id: int, now: datetime, settings: Settings) -> PushSummary:
    """`sync.notify.push.dispatch.push_one`, the morning verdict computed first."""
    return dispatch.push_one(athlete_id, now, settings, prepare=ensure_morning_verdict_of)
