"""The morning email in its order: the verdict first (the spine), then the send (the email).

Glue, like `worker/`: the email package only reads verdicts, so whoever sends passes the
verdicts package's `ensure_morning_verdict_of` as the dispatcher's `prepare` hook. The worker's
send task does the same; this module is the in-process form (the CLI, the demo, the tests).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sync.config import Settings
from sync.notify import dispatch
from sync.notify.dispatch import DispatchSummary, Outcome
from sync.notify.senders import Sender
from sync.verdicts.policy import ensure_morning_verdict_of

__all__ = ["dispatch_due_emails", "send_due_email", "ensure_morning_verdict_of"]


def dispatch_due_emails(now: datetime | None = None, **options: Any) -> DispatchSummary:  # noqa: ANN401
    """`sync.notify.dispatch.dispatch_due_emails`, each morning verdict computed before its email."""
    return dispatch.dispatch_due_emails(now, prepare=ensure_morning_verdict_of, **options)


def send_due_email(athlete_id: int, now: datetime, settings: Settings, sender: Sender) -> Outcome:
    """`sync.notify.dispatch.send_due_email`, the morning verdict computed before the email."""
    return dispatch.send_due_email(athlete_id, now, settings, sender, prepare=ensure_morning_verdict_of)
