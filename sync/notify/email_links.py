"""Links in emails: the report page, one-click soreness, web unsubscribe (see docs/email.md).

Built by `sync.links.build` (signed, expiring, bound to the athlete and the day). Without a
signing secret (a service install that set neither LEGDAY_REPORT_SECRET nor LEGDAY_SECRET_KEY)
the email leaves the links out and offers a mailto: unsubscribe only, rather than failing.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from sync.config import Settings
from sync.db.models import Athlete
from sync.errors import ConfigError
from sync.links.build import report_link, soreness_links, unsubscribe_link
from sync.onboarding.invites import invite_link

log = logging.getLogger(__name__)


def links_for(session: Session, athlete: Athlete, day: date, settings: Settings) -> dict[str, Any] | None:
    """Links for `athlete`'s email of `day`: keys `report`, `soreness` ({value: url}), `unsubscribe`.

    None means no links (no signing secret): the email leaves those parts out.
    """
    try:
        return {
            "report": report_link(athlete, day=day, settings=settings),
            "soreness": soreness_links(athlete, day, settings=settings),
            "unsubscribe": unsubscribe_link(athlete, settings=settings),
        }
    except ConfigError as exc:
        log.warning("email without report links: %s", exc)
        return None


def connect_link(athlete: Athlete, settings: Settings, *, days: int = 14) -> str | None:
    """A single-use invite to connect with a Personal API key (None without a signing secret)."""
    try:
        return invite_link(athlete, settings, days=days)
    except ConfigError as exc:
        log.warning("email without a connect link: %s", exc)
        return None
