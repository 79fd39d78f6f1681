"""The "connect again" notice the morning email and the report page show: the credential ends
within 14 days (or has ended), with a fresh invite link to connect with a Personal API key."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.config import Settings
from sync.credential_end import has_ended, warning
from sync.db.models import Athlete, GarminAccount
from sync.db.statuses import AccountStatus
from sync.errors import ConfigError
from sync.onboarding.invites import invite_link

log = logging.getLogger(__name__)

STEPS = (
    "Garmin Connect on the web: Settings, Personal API Token, Create Key; then "
    "`legday garmin connect --athlete {name}`."
)


def reconnect_notice(
    session: Session,
    athlete: Athlete,
    settings: Settings,
    now: datetime | None = None,
    *,
    base: str | None = None,
    include_ended: bool = False,
    days: int = 14,
) -> dict[str, str | None] | None:
    """{text, link, steps} when the athlete's Garmin credential ends within 14 days (or, with
    `include_ended`, needs re-authentication); None otherwise. `link` is a new single-use
    invite (None without a link secret: then `steps` say how)."""
    account = session.scalar(select(GarminAccount).where(GarminAccount.athlete_id == athlete.id))
    if account is None:
        return None
    moment = now or datetime.now(UTC)
    found = warning(account.token_kind, account.credential_ends_at, athlete.timezone, moment)
    if found is not None:
        text = found.text
    elif include_ended and (
        account.status == AccountStatus.NEEDS_REAUTH or has_ended(account.credential_ends_at, moment)
    ):
        text = (
            "legday can no longer read your Garmin data"
            + (f" ({account.status_reason})" if account.status_reason else "")
            + ": connect again with a Personal API key."
        )
    else:
        return None
    try:
        link: str | None = invite_link(athlete, settings, days=days, base=base)
    except ConfigError as exc:
        log.warning("connect notice without a link: %s", exc)
        link = None
    return {"text": text, "link": link, "steps": STEPS.format(name=athlete.name)}
