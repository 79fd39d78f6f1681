"""Beat entries: small fan-out dispatchers, each expiring before its next tick, and the queues.

`dispatch-syncs` runs every `dispatch_interval_s` (a minute) but queues only what is due
(docs/service.md): a brand-new account at once, the cheap activity check every
`activity_check_interval_s`, the full sync (wellness too) after the athlete's wake time and
shortly before the send time. Every dispatcher reads an indexed next-due column, a page at a
time, so a tick costs what is due, not the fleet: `dispatch-verdicts` queues the dirty
athlete-days and the local midnights, `dispatch-emails` the athletes whose send moment came.
"""

from __future__ import annotations

from typing import Any

from sync.config import get_settings


def beat_schedule() -> dict[str, dict[str, Any]]:
    """The periodic dispatchers."""
    settings = get_settings()
    every = settings.dispatch_interval_s
    emails = settings.email_dispatch_interval_s
    return {
        "dispatch-syncs": {
            "task": "worker.tasks.dispatch_syncs",
            "schedule": every,
            "options": {"expires": max(1.0, every * 0.9)},
        },
        "dispatch-verdicts": {  # dirty athlete-days and local midnights only (O(due))
            "task": "worker.tasks.dispatch_verdicts",
            "schedule": every,
            "options": {"expires": max(1.0, every * 0.9)},  # a stalled worker never piles up duplicates
        },
        "dispatch-emails": {
            "task": "worker.tasks.dispatch_emails",
            "schedule": emails,  # an email leaves within this of its send time (5 minutes)
            "options": {"expires": max(1.0, emails - 10) if emails > 20 else emails * 0.9},
        },
        "dispatch-pushes": {
            "task": "worker.tasks.dispatch_pushes",
            "schedule": emails,  # the push messages keep the email's pace (docs/notifications.md)
            "options": {"expires": max(1.0, emails - 10) if emails > 20 else emails * 0.9},
        },
    }
