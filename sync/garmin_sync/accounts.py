"""Linking an athlete to Garmin: verify the credential, store it encrypted.

`add_tokens` takes garth / DI tokens (one profile call); `connect_personal_api` takes a
Personal API key (one token exchange and one profile-settings call).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.config import Settings
from sync.db.models import Athlete, GarminAccount
from sync.errors import ConfigError
from sync.garmin.client import GarminClient
from sync.garmin.personal.client import PersonalApiClient
from sync.garmin.tokens import Tokens, personal_api_from_key, seal
from sync.garmin_sync.now import AccountBusy, account_lock

CONNECT_WAIT_S = 30.0  # a person is waiting: a running sync usually ends within this

# The expiries Garmin Connect offers when the athlete creates a Personal API key.
PERSONAL_API_KEY_DAYS = (30, 90, 180, 365)


def _lock_for(
    session: Session, athlete: Athlete, settings: Settings, *, verify: bool
) -> AbstractContextManager[bool]:
    """The athlete's account lock for a credential check (nothing to hold for a new account)."""
    account = session.scalar(select(GarminAccount).where(GarminAccount.athlete_id == athlete.id))
    if account is None or not verify:
        return nullcontext(True)
    return account_lock(account.id, settings, wait_s=CONNECT_WAIT_S)


def _store(
    session: Session,
    athlete: Athlete,
    tokens: Tokens,
    settings: Settings,
    *,
    display_name: str | None,
    credential_ends_at: datetime | None,
) -> GarminAccount:
    """Insert or replace the athlete's account with `tokens`, in a clean "ok" state."""
    sealed = seal(settings, tokens)
    account = session.scalar(select(GarminAccount).where(GarminAccount.athlete_id == athlete.id))
    if account is None:
        account = GarminAccount(
            athlete_id=athlete.id, token_kind=tokens.kind, tokens_encrypted=sealed, status="ok", backoff_s=0.0
        )
        session.add(account)
    else:
        account.token_kind, account.tokens_encrypted = tokens.kind, sealed
        account.status, account.status_reason = "ok", None
        account.rate_limited_until, account.backoff_s = None, 0.0
    account.credential_ends_at = credential_ends_at
    if display_name:
        account.display_name = display_name
    session.flush()
    return account


def connect_personal_api(
    session: Session,
    athlete: Athlete,
    key: str,
    expires_in_days: int,
    settings: Settings,
    *,
    now: datetime | None = None,
) -> GarminAccount:
    """Check a Garmin Connect Personal API key and store it encrypted for `athlete`.

    The check is one token exchange and one profile-settings call. `expires_in_days` is the
    expiry the athlete chose when creating the key (30, 90, 180 or 365): it becomes the
    account's `credential_ends_at`. Replaces any previous credential of the athlete (garth,
    DI or an older key) and clears a needs-re-auth / rate-limit state.

    Raises `PersonalApiKeyRejected` (one line, never the key) when Garmin refuses the key
    (wrong, expired or revoked), `TokenFormatError` for a key that cannot be sent, `ConfigError`
    for an expiry Garmin does not offer, and the client's transient errors otherwise; nothing
    is stored then.
    """
    if expires_in_days not in PERSONAL_API_KEY_DAYS:
        raise ConfigError(
            f"a Personal API key expires in {', '.join(map(str, PERSONAL_API_KEY_DAYS))} days, "
            f"not {expires_in_days}"
        )
    moment = now or datetime.now(UTC)
    ends = moment + timedelta(days=expires_in_days)
    tokens = personal_api_from_key(key, key_expires_at=ends.timestamp())
    # Held like every credential check, so a running sync cannot save its old credential over
    # the new key afterwards.
    with _lock_for(session, athlete, settings, verify=True) as held:
        if not held:
            raise AccountBusy("a sync of this Garmin account is running; try again in a minute")
        client = PersonalApiClient(tokens, settings)
        client.exchange()
        display_name = client.profile().display_name
    return _store(
        session, athlete, client.tokens, settings, display_name=display_name, credential_ends_at=ends
    )


def add_tokens(
    session: Session, athlete: Athlete, tokens: Tokens, settings: Settings, *, verify: bool = True
) -> GarminAccount:
    """Verify `tokens` with one profile call (refreshing them if needed), then store them.

    Replaces the athlete's previous tokens and clears a needs-re-auth / rate-limit state.
    Raises the client's errors (GarminAuthError...) when Garmin refuses the tokens, and
    `AccountBusy` when a sync or push of the athlete's account keeps its lock past a short wait:
    the check can refresh a token, so it holds the account's lock like every such call.
    """
    display_name = None
    with _lock_for(session, athlete, settings, verify=verify) as held:
        if not held:
            raise AccountBusy("a sync of this Garmin account is running; try again in a minute")
        if verify:
            client = GarminClient(tokens, settings)
            display_name = client.profile().display_name
            tokens = client.tokens  # may have been refreshed during the check
    return _store(session, athlete, tokens, settings, display_name=display_name, credential_ends_at=None)


def account_for(session: Session, athlete: Athlete) -> GarminAccount | None:
    """The athlete's Garmin account, if linked."""
    return session.scalar(select(GarminAccount).where(GarminAccount.athlete_id == athlete.id))
