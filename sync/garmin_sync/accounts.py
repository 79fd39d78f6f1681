"""Linking an athlete to Garmin: verify tokens with one call, store them encrypted."""

from __future__ import annotations

from contextlib import nullcontext

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.config import Settings
from sync.db.models import Athlete, GarminAccount
from sync.garmin.client import GarminClient
from sync.garmin.tokens import Tokens, seal
from sync.garmin_sync.now import AccountBusy, account_lock

CONNECT_WAIT_S = 30.0  # a person is waiting: a running sync usually ends within this


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
    account = session.scalar(select(GarminAccount).where(GarminAccount.athlete_id == athlete.id))
    lock = (
        account_lock(account.id, settings, wait_s=CONNECT_WAIT_S) if account and verify else nullcontext(True)
    )
    with lock as held:
        if not held:
            raise AccountBusy("a sync of this Garmin account is running; try again in a minute")
        if verify:
            client = GarminClient(tokens, settings)
            display_name = client.profile().display_name
            tokens = client.tokens  # may have been refreshed during the check
    sealed = seal(settings, tokens)
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
