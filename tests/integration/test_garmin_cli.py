"""The Garmin commands as a user runs them, against the sandbox; and the demo function."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

import sync.garmin_sync as garmin_sync
from sync.config import Settings, get_settings
from sync.db.models import GarminAccount, SyncRun
from sync.db.session import session_scope
from sync.demo import run_demo
from sync.garmin.tokens import GarthTokens
from sync.garmin_sync import SyncOutcome
from sync.locks import exclusive
from sync.sandbox import Sandbox
from testkit.garmin_fixtures import SAMPLES
from testkit.helpers import run_cli


@pytest.fixture
def cli_env(settings: Settings, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    monkeypatch.setenv("LEGDAY_GARMIN_BASE_URL", sandbox.url)
    monkeypatch.setenv("LEGDAY_GARMIN_MIN_INTERVAL_S", "0")
    monkeypatch.setenv("LEGDAY_GARMIN_INITIAL_DAYS", "7")
    get_settings.cache_clear()
    return sandbox


def write_garth_dir(sandbox: Sandbox, tmp_path: Path) -> tuple[GarthTokens, Path]:
    """Sandbox-issued garth tokens saved as garth's token directory."""
    tokens = sandbox.issue_garth_tokens()
    garth_dir = tmp_path / "garth"
    garth_dir.mkdir()
    (garth_dir / "oauth1_token.json").write_text(json.dumps(tokens.oauth1))
    (garth_dir / "oauth2_token.json").write_text(json.dumps(tokens.oauth2))
    return tokens, garth_dir


def test_add_tokens_sync_status_backfill(cli_env: Sandbox, tmp_path: Path) -> None:
    tokens, garth_dir = write_garth_dir(cli_env, tmp_path)
    assert run_cli("athlete", "add", "ana", "--timezone", "Europe/Berlin").exit_code == 0
    added = run_cli("garmin", "add-tokens", "--athlete", "ana", "--garth-dir", garth_dir)
    assert added.exit_code == 0 and "example_user" in added.output
    assert tokens.oauth2["access_token"] not in added.output  # type: ignore[index]
    cli_env.clear_log()
    synced = run_cli("sync")
    assert synced.exit_code == 0, synced.output
    assert f"{len(cli_env.log)} requests to Garmin" in synced.output
    assert "4 new activities" in synced.output
    status = run_cli("garmin", "status")
    assert "ana" in status.output and "ok" in status.output
    back = run_cli("backfill", "--since", (date.today() - timedelta(days=20)).isoformat())
    assert back.exit_code == 0 and "ana: ok" in back.output


def link_ana(sandbox: Sandbox, tmp_path: Path) -> int:
    """Add athlete ana linked to the sandbox with garth tokens; returns the account id."""
    _, garth_dir = write_garth_dir(sandbox, tmp_path)
    assert run_cli("athlete", "add", "ana", "--timezone", "UTC").exit_code == 0
    assert run_cli("garmin", "add-tokens", "--athlete", "ana", "--garth-dir", garth_dir).exit_code == 0
    with session_scope(get_settings()) as session:
        return session.scalars(select(GarminAccount.id)).one()


def test_sync_and_backfill_refuse_while_the_account_is_locked(cli_env: Sandbox, tmp_path: Path) -> None:
    account_id = link_ana(cli_env, tmp_path)
    cli_env.clear_log()
    since = (date.today() - timedelta(days=10)).isoformat()
    with exclusive(f"sync:{account_id}") as held:  # what a worker syncing ana holds
        assert held
        synced = run_cli("sync")
        back = run_cli("backfill", "--since", since)
    for result in (synced, back):
        assert result.exit_code == 5, result.output
        assert "ana: another sync of this account is running" in result.output
    assert cli_env.log == []  # refused before any request
    assert run_cli("sync").exit_code == 0  # the lock was released


def test_backfill_exit_codes_and_request_count(cli_env: Sandbox, tmp_path: Path) -> None:
    since = (date.today() - timedelta(days=10)).isoformat()
    assert run_cli("athlete", "add", "bo", "--timezone", "UTC").exit_code == 0
    nobody = run_cli("backfill", "--since", since)
    assert nobody.exit_code == 2 and "no Garmin account" in nobody.output
    link_ana(cli_env, tmp_path)
    # A download cut short: partial, run it again.
    newest = cli_env.account.newest_first()[0]
    cli_env.faults.add("truncated_zip", f"/download-service/files/activity/{newest.activity_id}")
    cli_env.clear_log()
    partial = run_cli("backfill", "--since", since)
    assert partial.exit_code == 3, partial.output
    assert "ana: partial" in partial.output and "run backfill again" in partial.output
    assert f"{len(cli_env.log)} requests to Garmin" in partial.output
    # Tokens revoked: needs new tokens, and says so with a non-zero exit.
    cli_env.revoke_refresh()
    cli_env.expire_all_tokens()
    cli_env.clear_log()
    reauth = run_cli("backfill", "--since", since)
    assert reauth.exit_code == 4 and "ana: needs_reauth" in reauth.output
    assert f"{len(cli_env.log)} requests to Garmin" in reauth.output and cli_env.log
    synced = run_cli("sync")
    assert synced.exit_code == 4 and "ana: needs_reauth" in synced.output
    assert "0 requests to Garmin" in synced.output  # no call while new tokens are missing


def test_add_tokens_refuses_garbage_clearly(cli_env: Sandbox, tmp_path: Path) -> None:
    run_cli("athlete", "add", "ana", "--timezone", "UTC")
    bad = run_cli("garmin", "add-tokens", "--athlete", "ana", "--garth-token", "secret-ish-garbage")
    assert bad.exit_code == 2 and "secret-ish-garbage" not in bad.output
    both = run_cli("garmin", "add-tokens", "--athlete", "ana", "--garth-token", "x", "--di-tokens", tmp_path)
    assert both.exit_code == 2


def test_run_demo(settings: Settings) -> None:
    result = run_demo(settings, SAMPLES)
    assert result.report.status == "ok" and result.requests > 0
    assert len({a.local_date for a in result.activities}) == 4
    assert result.activities[-1].lower_body_sets >= 6  # the leg day is yesterday
    assert result.wellness_days >= 50
    # The official path first: the demo athlete is on a Personal API key; the workout push
    # (Connect API only) is shown by a second athlete on DI tokens.
    with session_scope(settings) as session:
        kinds = {a.athlete.name: a.token_kind for a in session.scalars(select(GarminAccount))}
    assert kinds == {"demo": "personal_api", "demo-watch": "di"}
    assert result.key_ends is not None and result.watch_athlete == "demo-watch"


def test_add_tokens_refuses_a_di_store_with_a_stray_newline(cli_env: Sandbox, tmp_path: Path) -> None:
    # The reported leak: such a token passed jwt_claims, then requests' InvalidHeader printed
    # "Bearer eyJ..." in add-tokens' traceback.
    tokens = cli_env.issue_di_tokens()
    store = json.loads(tokens.to_json())
    store["di_token"] += "\n"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(store))
    run_cli("athlete", "add", "ana", "--timezone", "UTC")
    result = run_cli("garmin", "add-tokens", "--athlete", "ana", "--di-tokens", bad)
    assert result.exit_code == 2, result.output
    assert "di_token" in result.output and "whitespace" in result.output
    for part in tokens.di_token.split(".") + [tokens.di_refresh_token]:
        assert part not in result.output
    assert cli_env.log == []  # refused before any request


def _stop_at_first_step(real: Callable[..., SyncOutcome], exc: BaseException) -> Callable[..., SyncOutcome]:
    """`real` (backfill / sync_account) with a progress callback that raises `exc` at once."""

    def run(*args: object, **kwargs: object) -> SyncOutcome:
        def step(msg: str, done: int, of: int) -> None:
            raise exc

        kwargs["progress"] = step
        return real(*args, **kwargs)

    return run


def _last_run(kind: str) -> SyncRun:
    with session_scope(get_settings()) as session:
        run = session.scalars(select(SyncRun).where(SyncRun.kind == kind).order_by(SyncRun.id.desc())).first()
        assert run is not None
        session.expunge(run)
        return run


def test_ctrl_c_on_backfill_prints_the_summary_and_exits_4(
    cli_env: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    link_ana(cli_env, tmp_path)
    monkeypatch.setattr(
        garmin_sync, "backfill", _stop_at_first_step(garmin_sync.backfill, KeyboardInterrupt())
    )
    cli_env.clear_log()
    result = run_cli("backfill", "--since", (date.today() - timedelta(days=60)).isoformat())
    assert result.exit_code == 4, result.output  # was 130, with no summary
    assert cli_env.log  # the first window was fetched before Ctrl-C
    assert f"ana: interrupted, {len(cli_env.log)} requests" in result.output
    assert "run backfill again to resume" in result.output
    assert f"{len(cli_env.log)} requests to Garmin" in result.output
    run = _last_run("backfill")
    assert run.status == "interrupted" and run.requests == len(cli_env.log)


def test_a_failed_sync_prints_the_summary_and_exits_4(
    cli_env: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    link_ana(cli_env, tmp_path)
    boom = RuntimeError("a bug with details that may hold anything")
    real = garmin_sync.sync_account  # the command imports it when it runs (light start-up)
    monkeypatch.setattr(garmin_sync, "sync_account", _stop_at_first_step(real, boom))
    cli_env.clear_log()
    result = run_cli("sync")  # catch_exceptions=False: a traceback would fail the test
    assert result.exit_code == 4, result.output  # was 1, with a traceback
    assert f"ana: failed, {len(cli_env.log)} requests" in result.output
    assert "RuntimeError" in result.output and "may hold anything" not in result.output
    assert f"{len(cli_env.log)} requests to Garmin" in result.output
    assert _last_run("sync").status == "failed"
    monkeypatch.setattr(garmin_sync, "sync_account", real)
    again = run_cli("sync")  # the lock was released and the next run works
    assert again.exit_code == 0 and "ana: ok" in again.output, again.output
