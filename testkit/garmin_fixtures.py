"""Fixtures for the Garmin tests: the sandbox (a real HTTP server) and a linked athlete.

Import them in tests/conftest.py with:  from testkit.garmin_fixtures import *  # noqa: F403
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy.orm import Session

from sync.config import Settings
from sync.db.models import Athlete, GarminAccount
from sync.db.tx import keep_progress
from sync.garmin import client as garmin_client
from sync.garmin.source import GarminSource
from sync.garmin.tokens import ConnectTokens
from sync.garmin_sync import SyncOutcome, backfill, open_client, sync_account
from sync.garmin_sync.accounts import add_tokens, connect_personal_api
from sync.sandbox import Sandbox
from testkit.factories import make_athlete

SAMPLES = Path(__file__).resolve().parents[1] / "sync" / "samples"

__all__ = ["GarminEnv", "garmin_env", "garmin_settings_for", "sandbox"]


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """The sandbox seeded with the sample FIT files, one per day ending yesterday."""
    monkeypatch.delenv("GARTH_HOME", raising=False)
    monkeypatch.delenv("GARTH_TOKEN", raising=False)
    # garth caches the OAuth consumer pair process-wide: each sandbox starts without it, so a
    # test's request log never depends on which test happened to exchange a token first.
    monkeypatch.setattr(garmin_client.garth_sso, "OAUTH_CONSUMER", {})
    with Sandbox(fit_dir=SAMPLES, layout="recent") as sb:
        yield sb
        # A test that went beyond a Personal API limit (page size, range cap, Accept type,
        # requests of one key at once) fails, even where the client recovered.
        sb.assert_personal_api_limits()


def garmin_settings_for(base: Settings, sandbox: Sandbox) -> Settings:
    """`base` pointed at the sandbox, with test-speed pacing and backoff."""
    return base.model_copy(
        update={
            "garmin_base_url": sandbox.url,
            "garmin_min_interval_s": 0.0,
            "garmin_backoff_s": 0.05,
            "garmin_timeout_s": 2.0,
            "garmin_429_backoff_s": 1.0,
            "garmin_initial_days": 14,
            "secret_key": base.secret_key or SecretStr(Fernet.generate_key().decode()),
        }
    )


@dataclass
class GarminEnv:
    """A database session, settings pointed at the sandbox, and helpers."""

    session: Session
    settings: Settings
    sandbox: Sandbox

    def athlete(self, name: str = "runner", timezone: str = "UTC") -> Athlete:
        """Create an athlete."""
        return make_athlete(self.session, name, timezone=timezone)

    def link(self, athlete: Athlete, tokens: ConnectTokens | None = None) -> GarminAccount:
        """Link `athlete` to the sandbox's default account (garth tokens unless given)."""
        return add_tokens(self.session, athlete, tokens or self.sandbox.issue_garth_tokens(), self.settings)

    def link_personal_api(
        self, athlete: Athlete, *, expires_in_days: int = 90, account: str | None = None
    ) -> GarminAccount:
        """Link `athlete` with a Personal API key the sandbox issues (one exchange + one call)."""
        key = self.sandbox.issue_personal_api_key(account, expires_in_days=expires_in_days)
        return connect_personal_api(self.session, athlete, key, expires_in_days, self.settings)

    def client(self, account: GarminAccount) -> GarminSource:
        """A client for the stored account (refreshes are saved back)."""
        return open_client(self.session, account, self.settings, checkpoint=keep_progress(self.session))

    def sync(self, account: GarminAccount, **kw: Any) -> SyncOutcome:
        """`sync_account` of `account` as the entry points run it: a fresh client, the env's
        settings unless given, progress kept by committing the env's session."""
        kw.setdefault("settings", self.settings)
        kw.setdefault("checkpoint", keep_progress(self.session))
        return sync_account(self.session, account, self.client(account), **kw)

    def backfill(self, account: GarminAccount, since: date, **kw: Any) -> SyncOutcome:
        """`backfill` of `account` down to `since`, the way `sync` runs a sync."""
        kw.setdefault("settings", self.settings)
        kw.setdefault("checkpoint", keep_progress(self.session))
        return backfill(self.session, account, self.client(account), since, **kw)

    def client_factory(self) -> Callable[[GarminAccount], GarminSource]:
        """For code that opens its own clients."""
        return self.client


@pytest.fixture
def garmin_env(db_settings: Settings, db_session: Session, sandbox: Sandbox) -> GarminEnv:
    """Sandbox + migrated database (SQLite and PostgreSQL, via the shared fixtures)."""
    return GarminEnv(db_session, garmin_settings_for(db_settings, sandbox), sandbox)
