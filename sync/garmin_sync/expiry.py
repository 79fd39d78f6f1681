"""At the end of its credential an account needs re-authentication, without calling Garmin.

The sync's guard calls `expire_if_ended` first: an account whose credential has ended becomes
`needs_reauth` (the dispatchers skip it, so there is no retry loop) and the email dispatcher
sends its one re-auth email.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sync.credential_end import ended_reason, has_ended
from sync.db.models import GarminAccount
from sync.db.statuses import AccountStatus


def expire_if_ended(account: GarminAccount, now: datetime | None = None) -> bool:
    """Mark the account `needs_reauth` when its credential has ended at `now`; whether it did."""
    ends = account.credential_ends_at
    if ends is None or not has_ended(ends, now or datetime.now(UTC)):
        return False
    account.status, account.status_reason = (
        AccountStatus.NEEDS_REAUTH,
        ended_reason(account.token_kind, ends, account.athlete.timezone),
    )
    return True
