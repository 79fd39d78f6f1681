"""Linking an athlete to Garmin: verify the credential, store it encrypted.

`add_tokens` takes garth / DI tokens (one profile call); `connect_personal_api` takes a
Personal API key (one token exchange and one profile-settings call).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.config import Settings
from sync.db.models import DUE_AT_ONCE, Athlete, GarminAccount
from sync.db.statuses import AccountStatus
from sync.errors import ConfigError
from sync.garmin.client import GarminClient
from sync.garmin.lifetime import credential_end
from sync.garmin.personal.client import PersonalApiClient
from sync.garmin.tokens import ConnectTokens, Tokens, personal_api_from_key, seal
from sync.garmin_sync.now import AccountBusy, account_lock

# The expiries Garmin Connect offers when the athlete creates a Personal API key.
PERSONAL_API_KEY_DAYS = (30, 90, 180, 365)
CONNECT_WAIT_S = 30.0  # a person is waiting: a running sync usually ends within this


@contextmanager
def _linked_account_lock(session: Session, athlete: Athlete, settings: Settings) -> Iterator[None]:
    """Hold the lock of the athlete's existing account (if any) while a credential is checked.

    A check can refresh or replace the credential a running sync or push is using, so it holds
    the account's lock like every such call; a new athlete has no account to race with yet.
    Raises `AccountBusy` when a sync or push keeps the lock past a short wait.
    """
    account = session.scalar(select(GarminAccount).where(GarminAccount.athlete_id == athlete.id))
    if account is None:
        yield
        return
    with account_lock(account.id, settings, wait_s=CONNECT_WAIT_S) as held:
        if not held:
            message = "a sync of this Garmin account is running; try again in a minute"
            raise AccountBusy(account.id, settings, message=message)
        yield


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
            athlete_id=athlete.id,
            token_kind=tokens.kind,
            tokens_encrypted=sealed,
            status=AccountStatus.OK,
            backoff_s=0.0,
        )
        session.add(account)
    else:
        account.token_kind, account.tokens_encrypted = tokens.kind, sealed
        account.status, account.status_reason = AccountStatus.OK, None
        account.rate_limited_until, account.backoff_s = None, 0.0
    # New tokens: synced (wellness too) by the next dispatcher tick, also after a re-auth.
    account.next_sync_at = account.next_wellness_at = DUE_AT_ONCE
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
    is stored then; `AccountBusy` when a sync of the athlete's account keeps its lock.
    """
    if expires_in_days not in PERSONAL_API_KEY_DAYS:
        raise ConfigError(
            f"a Personal API key expires in {', '.join(map(str, PERSONAL_API_KEY_DAYS))} days, "
            f"not {expires_in_days}"
        )
    moment = now or datetime.now(UTC)
    ends = moment + timedelta(days=expires_in_days)
    tokens = personal_api_from_key(key, key_expires_at=ends.timestamp())
    # The real clock: a frozen one could wait forever on a 429 pause of the key's gate.
    client = PersonalApiClient(tokens, settings)
    with _linked_account_lock(session, athlete, settings):
        client.exchange()
        display_name = client.profile().display_name
    return _store(
        session, athlete, client.tokens, settings, display_name=display_name, credential_ends_at=ends
    )


def add_tokens(
    session: Session,
    athlete: Athlete,
    tokens: ConnectTokens,
    settings: Settings,
    *,
    verify: bool = True,
    now: datetime | None = None,
) -> GarminAccount:
    """Verify `tokens` with one profile call (refreshing them if needed), then store them with
    the date the credential ends (sync.garmin.lifetime).

    Replaces the athlete's previous tokens and clears a needs-re-auth / rate-limit state.
    Raises the client's errors (GarminAuthError...) when Garmin refuses the tokens, and
    `AccountBusy` when a sync or push of the athlete's account keeps its lock past a short wait.
    """
    display_name = None
    if verify:
        with _linked_account_lock(session, athlete, settings):
            client = GarminClient(tokens, settings)
            display_name = client.profile().display_name
            tokens = client.tokens  # may have been refreshed during the check
    ends = credential_end(tokens, now)
    return _store(session, athlete, tokens, settings, display_name=display_name, credential_ends_at=ends)


def account_for(session: Session, athlete: Athlete) -> GarminAccount | None:
    """The athlete's Garmin account, if linked."""
    return session.scalar(select(GarminAccount).where(GarminAccount.athlete_id == athlete.id))


def accounts_with_athletes(
    session: Session, athlete: str | None = None
) -> list[tuple[GarminAccount, Athlete]]:
    """Every Garmin account with its athlete, by athlete name (only `athlete`'s when named)."""
    query = select(GarminAccount, Athlete).join(Athlete, Athlete.id == GarminAccount.athlete_id)
    if athlete:
        query = query.where(Athlete.name == athlete)
    return [(account, who) for account, who in session.execute(query.order_by(Athlete.name))]


def all_accounts(session: Session) -> list[GarminAccount]:
    """Every Garmin account, oldest first."""
    return list(session.scalars(select(GarminAccount).order_by(GarminAccount.id)))
