"""When an athlete's Garmin credential ends, and the words that warn them (pure, no I/O).

Every account stores `credential_ends_at` (sync.garmin.lifetime computes it). The morning email
and the report page warn from WARN_DAYS[0] days before (the line grows firmer at 7 and 1);
at the end the account needs re-authentication (sync.garmin_sync.expiry) and the athlete gets
the one re-auth email. Days are counted in the athlete's own calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

WARN_DAYS = (14, 7, 1)
KIND_NAMES = {
    "personal_api": "Personal API key",
    "di": "Garmin sign-in (DI tokens)",
    "garth": "Garmin sign-in (garth tokens)",
}
# What ends, per kind, in the words of the warning.
_WHY = {
    "personal_api": "the Personal API key you created expires then",
    "di": "its refresh token dies after 30 days without a sync",
    "garth": "garth tokens live about a year and can no longer be renewed",
}


@dataclass(frozen=True)
class CredentialWarning:
    """A warning to show: how many days are left, at which step (14, 7 or 1), and the words."""

    days_left: int
    step: int
    ends_on: date
    text: str


def ends_on(ends_at: datetime, timezone: str) -> date:
    """The athlete-local date on which the credential ends."""
    return ends_at.astimezone(ZoneInfo(timezone)).date()


def days_left(ends_at: datetime, timezone: str, now: datetime) -> int:
    """Whole days from the athlete's today to the day the credential ends (0: it ends today)."""
    tz = ZoneInfo(timezone)
    return (ends_at.astimezone(tz).date() - now.astimezone(tz).date()).days


def has_ended(ends_at: datetime | None, now: datetime) -> bool:
    """Whether a credential with this end has stopped working at `now`."""
    return ends_at is not None and ends_at <= now


def warning(kind: str, ends_at: datetime | None, timezone: str, now: datetime) -> CredentialWarning | None:
    """The warning for a credential ending within WARN_DAYS[0] days; None before that or after
    the end (then the re-auth email speaks)."""
    if ends_at is None or has_ended(ends_at, now):
        return None
    left = days_left(ends_at, timezone, now)
    if left > WARN_DAYS[0]:
        return None
    step = min(w for w in WARN_DAYS if left <= w)
    day = ends_on(ends_at, timezone)
    name = KIND_NAMES.get(kind, "Garmin connection")
    when = "today" if left == 0 else "tomorrow" if left == 1 else f"in {left} days"
    text = (
        f"Your Garmin connection ends {when} ({day.isoformat()}): {_WHY.get(kind, 'it expires then')}. "
        f"Connect again with a new Personal API key before then, or legday stops getting your data."
    )
    if kind == "personal_api":
        text = text.replace("Garmin connection", name, 1)
    return CredentialWarning(left, step, day, text)


def ended_reason(kind: str, ends_at: datetime, timezone: str = "UTC") -> str:
    """The account's re-auth reason once the credential has ended (the date as the athlete's)."""
    day = ends_on(ends_at, timezone).isoformat()
    if kind == "personal_api":
        return f"the Personal API key expired on {day}: create a new key in Garmin Connect"
    if kind == "di":
        return f"the DI refresh token went unused for 30 days (ended {day}): connect again"
    return f"the garth token reached the end of its lifetime on {day}: connect again"
