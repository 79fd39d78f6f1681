"""Linking an athlete to Garmin: verify tokens with one call, store them encrypted."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.config import Settings
from sync.db.models import Athlete, GarminAccount
from sync.garmin.client import GarminClient
from sync.garmin.tokens import Tokens, seal


def add_tokens(
    session: Session, athlete: Athlete, tokens: Tokens, settings: Settings, *, verify: bool = True
) -> GarminAccount:
    """Verify `tokens` with one profile call (refreshing them if needed), then store them.

    Replaces the athlete's previous tokens and clears a needs-re-auth / rate-limit state.
    Raises the client's errors (GarminAuthError...) when Garmin refuses the tokens.
    """
    display_name = None
    if verify:
        client = GarminClient(tokens, settings)
        display_name = client.profile().display_name
        tokens = client.tokens  # may have been refreshed during the check
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
    if display_name:
        account.display_name = display_name
    session.flush()
    return account


def account_for(session: Session, athlete: Athlete) -> GarminAccount | None:
    """The athlete's Garmin account, if linked."""
    return session.scalar(select(GarminAccount).where(GarminAccount.athlete_id == athlete.id))
