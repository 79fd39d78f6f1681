"""`sync_account_now`: the worker's flavour of the locked entry point (`locked_run`) the CLI shares."""

from __future__ import annotations

import pytest

from sync.db.models import GarminAccount
from sync.garmin_sync.now import AccountBusy, account_lock, sync_account_now
from testkit.garmin_fixtures import GarminEnv


def test_busy_while_locked_then_syncs_then_skips_a_locked_out_account(garmin_env: GarminEnv) -> None:
    env = garmin_env
    account = env.link(env.athlete())
    env.session.commit()
    with account_lock(account.id, env.settings) as held:  # as the CLI holds it during `legday sync`
        assert held
        with pytest.raises(AccountBusy) as busy:  # raised (the worker retries it), not a status
            sync_account_now(account.id, settings=env.settings)
        assert busy.value.status == "busy"
    result = sync_account_now(account.id, settings=env.settings)
    assert result.status == "ok" and result.report is not None and result.report.activities_imported == 4
    assert result.athlete_id == account.athlete_id and result.wellness is True
    env.session.expire_all()
    stored = env.session.get(GarminAccount, account.id)
    stored.status = "needs_reauth"
    env.session.commit()
    assert sync_account_now(account.id, settings=env.settings).status == "skipped"
    assert sync_account_now(10_000, settings=env.settings).status == "skipped"  # gone
