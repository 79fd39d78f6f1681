"""The transaction rule (sync/db/tx.py) in a real sync: the caller frames the transaction.

A token refresh is saved on a connection of its own: it survives the caller rolling the run
back, and it does not commit the run's work. An account added in the caller's open transaction
still gets its refreshed tokens, through the caller's own commit.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from sync.db.models import Activity, GarminAccount, SyncRun
from sync.db.session import session_scope
from sync.db.statuses import SyncRunStatus
from sync.db.tx import NO_CHECKPOINT, keep_progress
from sync.garmin.tokens import DITokens, unseal
from sync.garmin_sync import sync_account
from sync.garmin_sync.run import open_client
from testkit.garmin_fixtures import GarminEnv


def _stored_refresh_token(env: GarminEnv, account_id: int) -> str:
    with session_scope(env.settings) as other:  # another connection: what is committed
        row = other.get(GarminAccount, account_id)
        assert row is not None
        tokens = unseal(env.settings, "di", row.tokens_encrypted)
        assert isinstance(tokens, DITokens)
        return tokens.di_refresh_token


def _committed(env: GarminEnv, model: type) -> int:
    with session_scope(env.settings) as other:
        return other.scalar(select(func.count()).select_from(model)) or 0


def test_a_refresh_is_saved_on_its_own_and_commits_nothing_of_the_run(garmin_env: GarminEnv) -> None:
    env = garmin_env
    tokens = env.sandbox.issue_di_tokens()
    account = env.link(env.athlete(), tokens)
    env.session.commit()  # the account exists before the run; the run is the caller's to frame
    env.sandbox.expire_all_tokens()  # the first request refreshes (and rotates) the tokens
    client = open_client(env.session, account, env.settings, checkpoint=NO_CHECKPOINT)
    report = sync_account(env.session, account, client, settings=env.settings, checkpoint=NO_CHECKPOINT)
    assert report.status == SyncRunStatus.OK, report.message
    assert report.activities_imported > 0
    # Nothing of the run is committed yet: the refresh did not commit the caller's session.
    assert _committed(env, Activity) == 0 and _committed(env, SyncRun) == 0
    rotated = _stored_refresh_token(env, account.id)
    assert rotated != tokens.di_refresh_token  # ...but the new tokens are stored already
    env.session.rollback()  # the caller drops the run: the rotated tokens stay
    assert _stored_refresh_token(env, account.id) == rotated
    assert _committed(env, Activity) == 0


def test_an_uncommitted_account_keeps_its_refresh_through_the_callers_commit(
    garmin_env: GarminEnv,
) -> None:
    env = garmin_env
    tokens = env.sandbox.issue_di_tokens()
    account = env.link(env.athlete(), tokens)  # not committed: no other connection sees it
    env.sandbox.expire_all_tokens()
    client = open_client(env.session, account, env.settings, checkpoint=NO_CHECKPOINT)
    report = sync_account(env.session, account, client, settings=env.settings, checkpoint=NO_CHECKPOINT)
    assert report.status == SyncRunStatus.OK, report.message
    env.session.commit()
    assert _stored_refresh_token(env, account.id) != tokens.di_refresh_token
    assert _committed(env, SyncRun) == 1


def test_a_refresh_while_the_run_holds_the_lock_is_kept_by_its_checkpoint(
    garmin_env: GarminEnv, caplog: pytest.LogCaptureFixture
) -> None:
    """The own connection would wait for the run itself (a deadlock): the checkpoint keeps it."""
    caplog.set_level(logging.INFO, logger="sync.garmin_sync.run")
    env = garmin_env
    tokens = env.sandbox.issue_di_tokens()
    account = env.link(env.athlete(), tokens)
    env.session.commit()
    account.backoff_s = 0.5  # any change of the account row
    env.session.flush()  # the run's transaction now holds the account row (SQLite: the database)
    env.sandbox.expire_all_tokens()
    # The entry points' checkpoint (a commit) for the token, none for the run's windows.
    client = open_client(env.session, account, env.settings, checkpoint=keep_progress(env.session))
    report = sync_account(env.session, account, client, settings=env.settings, checkpoint=NO_CHECKPOINT)
    assert report.status == SyncRunStatus.OK, report.message
    assert _stored_refresh_token(env, account.id) != tokens.di_refresh_token
    assert "token saved for account" in caplog.text and "(checkpoint)" in caplog.text
