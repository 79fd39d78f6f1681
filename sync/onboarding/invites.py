"""Invite links: `/join/<signed>`, bound to one athlete, expiring, usable once.

The link is signed with the report server's secret (its own purpose label, so no report link or
cookie can pass for one) and carries a random nonce. Issuing writes nothing; using it inserts an
`invite` row keyed by the nonce, so the database, not a check before the insert, makes it
single-use. The URL is a credential: it is never logged (sync.web.onboarding redacts it from
the access log).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sync.config import Settings
from sync.db.models import Athlete, Invite
from sync.errors import PermanentError
from sync.links.build import base_url
from sync.links.secret import report_key
from sync.links.signing import sign, verify

INVITE_PURPOSE = "invite"
DEFAULT_INVITE_DAYS = 7
MAX_INVITE_DAYS = 60
JOIN_PREFIX = "/join/"


class InviteUsed(PermanentError):
    """The invite was used already (by this or a concurrent request)."""


@dataclass(frozen=True)
class InviteClaims:
    """A valid, unexpired invite: whose it is, its nonce, and when it expires (UTC)."""

    athlete_id: int
    nonce: str
    expires_at: datetime


def sign_invite(
    athlete_id: int, settings: Settings, *, days: int = DEFAULT_INVITE_DAYS, now: float | None = None
) -> str:
    """The signed path segment of a new invite for `athlete_id`, valid `days` days."""
    if not 1 <= days <= MAX_INVITE_DAYS:
        raise ValueError(f"an invite is valid 1 to {MAX_INVITE_DAYS} days")
    claims = {"a": athlete_id, "n": secrets.token_urlsafe(16)}
    return sign(report_key(settings), INVITE_PURPOSE, claims, days * 86400, now=now)


def invite_link(
    athlete: Athlete,
    settings: Settings,
    *,
    days: int = DEFAULT_INVITE_DAYS,
    base: str | None = None,
    now: float | None = None,
) -> str:
    """Full URL of a new single-use invite for `athlete` (default valid 7 days)."""
    signed = sign_invite(athlete.id, settings, days=days, now=now)
    return f"{(base or base_url(settings)).rstrip('/')}{JOIN_PREFIX}{signed}"


def verify_invite(signed: str, settings: Settings, now: float | None = None) -> InviteClaims | None:
    """The claims of a valid, unexpired invite; None when forged, altered, expired or malformed."""
    claims = verify(report_key(settings), INVITE_PURPOSE, signed, now=now if now is not None else time.time())
    if claims is None:
        return None
    athlete_id, nonce = claims.get("a"), claims.get("n")
    if not isinstance(athlete_id, int) or not isinstance(nonce, str) or not 8 <= len(nonce) <= 64:
        return None
    return InviteClaims(athlete_id, nonce, datetime.fromtimestamp(claims["e"], UTC))


def is_used(session: Session, claims: InviteClaims) -> bool:
    """Whether the invite was used already."""
    return session.scalar(select(Invite.id).where(Invite.nonce == claims.nonce)) is not None


def consume(session: Session, claims: InviteClaims, now: datetime | None = None) -> None:
    """Mark the invite used in the caller's transaction; InviteUsed when it was already.

    Call it first in the transaction: the insert takes the write lock before anything is read,
    so a concurrent post waits for this transaction to end and then hits the unique key. On
    that refusal the transaction is rolled back (it holds nothing else yet).
    """
    session.add(Invite(nonce=claims.nonce, athlete_id=claims.athlete_id, used_at=now or datetime.now(UTC)))
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise InviteUsed("this invite link was used already: ask for a new one") from None


@dataclass(frozen=True)
class IssuedInvite:
    """What `issue_invite` made: the link, until when it works, and whether the athlete is new."""

    url: str
    expires_at: datetime
    created_athlete: bool


def issue_invite(
    session: Session,
    name: str,
    settings: Settings,
    *,
    days: int = DEFAULT_INVITE_DAYS,
    base: str | None = None,
) -> IssuedInvite:
    """An invite for the athlete called `name`, added first (time zone UTC until they set theirs
    on the page) when there is none yet."""
    from sync.athletes import add_athlete, resolve_athlete
    from sync.errors import NotFoundError

    created = False
    try:
        athlete = resolve_athlete(session, name)
    except NotFoundError:
        athlete = add_athlete(session, name, email=None, timezone="UTC")
        created = True
    now = time.time()
    url = invite_link(athlete, settings, days=days, base=base, now=now)
    return IssuedInvite(url, datetime.fromtimestamp(int(now + days * 86400), UTC), created)
