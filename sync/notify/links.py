"""The hook for links in emails (report page, one-click soreness, web unsubscribe).

The report package fills this in: `links_for` returns None until a public report URL exists.
The dict it returns is passed to the templates as `links`; see docs/email.md for the keys.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from sync.config import Settings
from sync.db.models import Athlete


def links_for(session: Session, athlete: Athlete, day: date, settings: Settings) -> dict[str, Any] | None:
    """Links for `athlete`'s email of `day`: keys `report`, `soreness` ({0..10: url}), `unsubscribe`.

    None means no links (no report server): the email leaves those parts out and offers a
    mailto: unsubscribe only.
    """
    return None
