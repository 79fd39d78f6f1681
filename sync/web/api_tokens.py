"""Athlete bearer tokens for the API: issued once, stored hashed, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.db.models import Athlete

TOKEN_PREFIX = "ldy_"
MAX_TOKEN_LENGTH = 128


def hash_token(token: str) -> str:
    """SHA-256 hex of a token. Tokens carry 256 random bits, so a plain hash cannot be reversed."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session: Session, athlete: Athlete) -> str:
    """A new token for `athlete`, replacing (and so revoking) any earlier one. Shown only once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    athlete.report_token_hash = hash_token(token)
    session.flush()
    return token


def revoke_token(session: Session, athlete: Athlete) -> bool:
    """Forget the athlete's token and end every signed link issued so far; True when there was
    a token. (Unsubscribe links survive: docs/report.md.)"""
    had = athlete.report_token_hash is not None
    athlete.report_token_hash = None
    athlete.link_generation = (athlete.link_generation or 0) + 1
    session.flush()
    return had


def athlete_for_token(session: Session, token: str | None) -> Athlete | None:
    """The athlete a token names, or None for a missing, malformed, wrong or revoked token."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return None
    digest = hash_token(token)
    athlete = session.scalar(select(Athlete).where(Athlete.report_token_hash == digest))
    if athlete is None or athlete.report_token_hash is None:
        return None
    # The lookup is by hash; compare again in constant time so no timing tells a near miss.
    return athlete if hmac.compare_digest(athlete.report_token_hash, digest) else None
