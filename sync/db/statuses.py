"""Every status a row can be in, one `StrEnum` per column, and the CHECK that pins it.

The members are the strings stored (a `StrEnum` member *is* its string, so rows, JSON and
logs read the same as before). Code compares to the members, never to bare literals; the
database refuses any other value through the CHECK constraints of migration
0011_status_enums, which are built from these classes (`check_sql`).
"""

from __future__ import annotations

from enum import StrEnum


class AccountStatus(StrEnum):
    """`garmin_account.status`: whether legday may call Garmin for the account."""

    OK = "ok"
    NEEDS_REAUTH = "needs_reauth"  # tokens rejected or the credential ended: reconnect
    RATE_LIMITED = "rate_limited"  # a 429: no call before `rate_limited_until`


class RawFileStatus(StrEnum):
    """`raw_file.status`: whether the stored bytes decoded."""

    DECODED = "decoded"
    QUARANTINED = "quarantined"


class DeliveryStatus(StrEnum):
    """`email_delivery.status`, the exactly-once states of docs/email.md."""

    PENDING = "pending"  # the model's default; the dispatcher inserts `claimed`
    CLAIMED = "claimed"  # committed before the send: nobody else sends this email
    SENDING = "sending"  # handed to SMTP; a crash here is never sent again blindly
    SENT = "sent"
    UNCONFIRMED = "unconfirmed"  # the server's answer was lost: maybe sent, never resent
    RETRY = "retry"  # a transient failure: sent again at `next_attempt_at`
    FAILED = "failed"
    SKIPPED = "skipped"  # the athlete's time zone is unknown here: the day cannot be placed


# A message in these states may have reached its receiver: what it said was told.
REACHED_STATUSES = (DeliveryStatus.SENDING, DeliveryStatus.SENT, DeliveryStatus.UNCONFIRMED)


class ChannelStatus(StrEnum):
    """`notify_channel.status`: whether legday sends to a notification channel."""

    ACTIVE = "active"
    PAUSED = "paused"  # failed on 3 days in a row: nothing is sent until `notify resume`


class PushState(StrEnum):
    """`pushed_workout.state` (sync/garmin_sync/workouts.py)."""

    PENDING = "pending"  # not on the calendar yet, or half done
    CREATING = "creating"  # a create was sent and its answer not seen: look first
    UNSURE = "unsure"  # a schedule was sent and its answer not seen: look first
    SCHEDULED = "scheduled"
    REMOVED = "removed"
    NONE = "none"  # no legday workout for the day and none was ever made


class SyncRunStatus(StrEnum):
    """`sync_run.status`: how a sync, backfill, check, push or import ended."""

    RUNNING = "running"  # an import in progress (or killed: see close_abandoned_imports)
    OK = "ok"
    PARTIAL = "partial"  # a download failed; run it again
    QUARANTINED = "quarantined"  # an import finished with files it could not use
    RATE_LIMITED = "rate_limited"
    NEEDS_REAUTH = "needs_reauth"
    UNAVAILABLE = "unavailable"
    INTERRUPTED = "interrupted"
    FAILED = "failed"


# (table, column, enum, the value an unknown stored value becomes: the safe one)
CHECKED: tuple[tuple[str, str, type[StrEnum], StrEnum], ...] = (
    ("garmin_account", "status", AccountStatus, AccountStatus.NEEDS_REAUTH),
    ("raw_file", "status", RawFileStatus, RawFileStatus.QUARANTINED),
    ("email_delivery", "status", DeliveryStatus, DeliveryStatus.FAILED),
    ("notify_channel", "status", ChannelStatus, ChannelStatus.PAUSED),
    ("channel_delivery", "status", DeliveryStatus, DeliveryStatus.FAILED),
    ("pushed_workout", "state", PushState, PushState.UNSURE),
    ("sync_run", "status", SyncRunStatus, SyncRunStatus.FAILED),
)


def check_sql(column: str, enum: type[StrEnum]) -> str:
    """The CHECK expression allowing exactly the members of `enum` in `column`."""
    values = ", ".join(f"'{member.value}'" for member in enum)
    return f"{column} IN ({values})"
