"""Using an invite: check the form, consume the invite, connect the key, set the athlete up.

All in the caller's transaction, so a refused key (or any other error) stores nothing and
leaves the invite usable; a success commits the account, the settings and the used invite
together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from sync.athletes import (
    morning_changed,
    update_athlete,
    validate_email,
    validate_send_time,
    validate_timezone,
)
from sync.config import Settings
from sync.db.models import Athlete, GarminAccount
from sync.errors import ConfigError, NotFoundError
from sync.garmin_sync.accounts import PERSONAL_API_KEY_DAYS, connect_personal_api
from sync.onboarding.invites import InviteClaims, consume

KEY_MAX = 512  # far above any key seen; a paste of a whole page is refused before Garmin sees it


@dataclass(frozen=True, repr=False)
class JoinForm:
    """What the athlete posted (the key is never shown in a repr)."""

    key: str
    expires_in_days: int
    email: str | None
    timezone: str
    send_time: str

    def __repr__(self) -> str:
        return f"JoinForm(expires_in_days={self.expires_in_days}, timezone={self.timezone!r}, <key redacted>)"


def parse_form(fields: dict[str, str]) -> JoinForm:
    """The form's values, checked; ConfigError (one line for the page, never the key) if not."""
    key = fields.get("key", "").strip()
    if not key:
        raise ConfigError("Paste your Personal API key (Garmin Connect shows it once, when you create it).")
    if len(key) > KEY_MAX or any(not "!" <= ch <= "~" for ch in key):
        raise ConfigError(
            "That does not look like a Personal API key: paste only the key, without spaces or line breaks."
        )
    days = fields.get("expires", "")
    if not days.isascii() or not days.isdigit() or int(days) not in PERSONAL_API_KEY_DAYS:
        raise ConfigError("Choose the expiry you picked in Garmin Connect: 30, 90, 180 or 365 days.")
    email = validate_email(fields.get("email"))
    timezone = validate_timezone(fields.get("timezone", "").strip() or "UTC")
    send_time = fields.get("send_time", "").strip() or "06:30"
    validate_send_time(send_time)
    return JoinForm(key, int(days), email, timezone, send_time)


def accept_invite(
    session: Session, claims: InviteClaims, form: JoinForm, settings: Settings, *, now: datetime | None = None
) -> GarminAccount:
    """Consume the invite, check and store the key, apply the athlete's settings.

    Raises InviteUsed, NotFoundError, ConfigError, the key's rejection (a PermanentError) or a
    TransientError (Garmin unavailable or rate limited); the caller rolls back on any of them.
    """
    consume(session, claims, now)  # first: the unique key decides between concurrent posts
    athlete = session.get(Athlete, claims.athlete_id)
    if athlete is None:
        raise NotFoundError("this invite's athlete no longer exists: ask for a new invite")
    account = connect_personal_api(session, athlete, form.key, form.expires_in_days, settings, now=now)
    update_athlete(session, athlete, email=form.email, timezone=form.timezone, send_time=form.send_time)
    if form.email:
        athlete.email_enabled = True  # the athlete asked for the daily email on this page
        morning_changed(athlete)
    return account
