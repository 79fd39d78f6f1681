"""When a Garmin credential stops working, read from the credential itself (pure, no I/O).

- garth: the OAuth1 token lives about a year from the login that issued it. garth records
  that end as `mfa_expiration_timestamp` (ISO, UTC); without it the issue time is unknown, and
  since garth logins stopped working in March 2026, every garth token was issued before
  GARTH_LOGIN_CUTOFF: legday takes the earlier of "now" and that cutoff, plus a year.
- DI (python-garminconnect): the refresh token dies when unused for 30 days, so the end is the
  last successful refresh plus 30 days (the access JWT's `iat` is that refresh; else "now").
- Personal API: the expiry the athlete chose when creating the key.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sync.garmin.tokens import DITokens, GarthTokens, TokenFormatError, Tokens, jwt_claims

GARTH_LIFETIME = timedelta(days=365)
GARTH_LOGIN_CUTOFF = datetime(2026, 4, 1, tzinfo=UTC)
DI_REFRESH_IDLE = timedelta(days=30)


def _utc(value: object) -> datetime | None:
    """An ISO timestamp (naive means UTC) or epoch seconds as an aware UTC datetime."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC)
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _garth_end(tokens: GarthTokens, now: datetime) -> datetime:
    recorded = _utc(tokens.oauth1.get("mfa_expiration_timestamp"))
    if recorded is not None:
        return recorded
    return min(now, GARTH_LOGIN_CUTOFF) + GARTH_LIFETIME


def _di_end(tokens: DITokens, now: datetime) -> datetime:
    try:
        issued = _utc(jwt_claims(tokens.di_token).get("iat"))
    except TokenFormatError:
        issued = None
    if issued is None or issued > now:
        issued = now
    return issued + DI_REFRESH_IDLE


def credential_end(tokens: Tokens, now: datetime | None = None) -> datetime | None:
    """When `tokens` stop working (UTC), as well as the credential itself tells; None: unknown."""
    moment = now or datetime.now(UTC)
    if isinstance(tokens, GarthTokens):
        return _garth_end(tokens, moment)
    if isinstance(tokens, DITokens):
        return _di_end(tokens, moment)
    return _utc(getattr(tokens, "key_expires_at", None))  # a Personal API key


def end_after_refresh(tokens: Tokens, now: datetime | None = None) -> datetime | None:
    """The end after a successful refresh at `now`: a DI refresh starts a new 30-day window;
    a garth exchange or a Personal API token exchange does not extend the credential."""
    moment = now or datetime.now(UTC)
    if isinstance(tokens, DITokens):
        return moment + DI_REFRESH_IDLE
    return credential_end(tokens, moment)
