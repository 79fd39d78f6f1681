"""Beat entries: small fan-out dispatchers, each expiring before its next tick."""

from __future__ import annotations

from typing import Any


def beat_schedule() -> dict[str, dict[str, Any]]:
    """The periodic dispatchers."""
    return {
        "dispatch-syncs": {
            "task": "worker.tasks.dispatch_syncs",
            "schedule": 3600.0,
            "options": {"expires": 3500},
        },
        "dispatch-verdicts": {
            "task": "worker.tasks.dispatch_verdicts",
            "schedule": 600.0,
            "options": {"expires": 590},  # a stalled worker never piles up duplicates
        },
        "dispatch-emails": {
            "task": "worker.tasks.dispatch_emails",
            "schedule": 300.0,  # an email leaves within 5 minutes of its send time
            "options": {"expires": 290},
        },
    }
