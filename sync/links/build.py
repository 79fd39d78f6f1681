"""Links to the report page: signed with the server secret, expiring, bound to one athlete.

These are what the email and `legday report link` hand out. Tokens never go into URLs.

- `report_link(athlete)`: the report page.
- `soreness_links(athlete, day)`: one link per value (0, 3, 5, 8) that opens the page with that
  value chosen; the athlete confirms with one button (a POST), so mail scanners that open
  links change nothing.
- `unsubscribe_link(athlete)` and `unsubscribe_headers(athlete)`: RFC 8058 one-click unsubscribe.
- `calendar_link(athlete)`: the athlete's ICS feed, for a calendar app to subscribe to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sync.config import Settings, get_settings
from sync.db.models import Athlete
from sync.links.secret import report_key
from sync.links.signing import sign, verify

SORENESS_LINK_VALUES = (0, 3, 5, 8)
LINK_PURPOSE = "link"
KINDS = {"report": "r", "soreness": "s", "unsubscribe": "u", "calendar": "c"}
CALENDAR_LINK_DAYS = 366  # a calendar app subscribes once; `legday token revoke` ends it sooner


@dataclass(frozen=True)
class LinkClaims:
    """What a verified link says: whose it is, what for, and for which day and value."""

    athlete_id: int
    kind: str  # report | soreness | unsubscribe
    day: date | None = None
    value: int | None = None
    generation: int = 0  # the athlete's link generation when it was issued


def is_current(claims: LinkClaims, athlete: Athlete) -> bool:
    """Whether a verified link still holds for `athlete`: issued under their current link
    generation (`legday token revoke` bumps it). Unsubscribe links hold whatever the
    generation: an athlete must always be able to stop the email (docs/report.md)."""
    return claims.kind == "unsubscribe" or claims.generation == (athlete.link_generation or 0)


def base_url(settings: Settings) -> str:
    """Public address of the report server, without a trailing slash."""
    url = settings.report_base_url or f"http://{settings.serve_host}:{settings.serve_port}"
    return url.rstrip("/")


def sign_link(
    athlete_id: int,
    kind: str,
    *,
    settings: Settings | None = None,
    days: int | None = None,
    day: date | None = None,
    value: int | None = None,
    generation: int = 0,
) -> str:
    """The signed path segment of a link of `kind` for an athlete, valid `days` days, issued
    under the athlete's link `generation`."""
    settings = settings or get_settings()
    claims: dict[str, object] = {"a": athlete_id, "k": KINDS[kind]}
    if generation:
        claims["g"] = generation  # links of generation 0 carry none (as links from before it)
    if day is not None:
        claims["d"] = day.isoformat()
    if value is not None:
        claims["v"] = value
    ttl = (days or settings.report_link_days) * 86400
    return sign(report_key(settings), LINK_PURPOSE, claims, ttl)


def verify_link(signed: str, settings: Settings) -> LinkClaims | None:
    """The claims of a valid, unexpired link; None when forged, altered, expired or malformed."""
    claims = verify(report_key(settings), LINK_PURPOSE, signed)
    if claims is None:
        return None
    kinds = {v: k for k, v in KINDS.items()}
    athlete_id, kind, day, value = claims.get("a"), claims.get("k"), claims.get("d"), claims.get("v")
    generation = claims.get("g", 0)
    if not isinstance(athlete_id, int) or kind not in kinds or not isinstance(generation, int):
        return None
    try:
        parsed_day = date.fromisoformat(day) if isinstance(day, str) else None
    except ValueError:
        return None
    if value is not None and not (isinstance(value, int) and 0 <= value <= 10):
        return None
    return LinkClaims(athlete_id, kinds[kind], parsed_day, value, generation)


def report_link(
    athlete: Athlete,
    *,
    days: int | None = None,
    day: date | None = None,
    settings: Settings | None = None,
    base: str | None = None,
) -> str:
    """Full URL of the athlete's report page (the verdict of `day`, default their today)."""
    settings = settings or get_settings()
    signed = sign_link(
        athlete.id, "report", settings=settings, days=days, day=day, generation=athlete.link_generation or 0
    )
    return f"{(base or base_url(settings)).rstrip('/')}/r/{signed}"


def soreness_links(
    athlete: Athlete,
    day: date,
    *,
    days: int | None = None,
    settings: Settings | None = None,
    base: str | None = None,
) -> dict[int, str]:
    """One link per soreness value (0, 3, 5, 8) for `day`: each opens the report with the value
    chosen and a button to confirm it. Opening a link records nothing."""
    settings = settings or get_settings()
    root = (base or base_url(settings)).rstrip("/")
    links = {}
    for value in SORENESS_LINK_VALUES:
        signed = sign_link(
            athlete.id,
            "soreness",
            settings=settings,
            days=days,
            day=day,
            value=value,
            generation=athlete.link_generation or 0,
        )
        links[value] = f"{root}/r/{signed}"
    return links


def unsubscribe_link(
    athlete: Athlete, *, days: int | None = None, settings: Settings | None = None, base: str | None = None
) -> str:
    """Full URL of the athlete's unsubscribe page (GET shows a button; POST unsubscribes)."""
    settings = settings or get_settings()
    # Unsubscribe links must keep working for a long while after the email was sent.
    generation = athlete.link_generation or 0
    signed = sign_link(athlete.id, "unsubscribe", settings=settings, days=days or 366, generation=generation)
    return f"{(base or base_url(settings)).rstrip('/')}/u/{signed}"


def unsubscribe_headers(athlete: Athlete, *, settings: Settings | None = None) -> dict[str, str]:
    """The RFC 8058 headers of an email: List-Unsubscribe and List-Unsubscribe-Post."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_link(athlete, settings=settings)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def calendar_link(
    athlete: Athlete, *, days: int | None = None, settings: Settings | None = None, base: str | None = None
) -> str:
    """Full URL of the athlete's calendar feed (ICS): signed, valid a year by default, revoked
    with every other link by `legday token revoke` (the link generation)."""
    settings = settings or get_settings()
    signed = sign_link(
        athlete.id,
        "calendar",
        settings=settings,
        days=days or CALENDAR_LINK_DAYS,
        generation=athlete.link_generation or 0,
    )
    return f"{(base or base_url(settings)).rstrip('/')}/c/{signed}/legday.ics"
