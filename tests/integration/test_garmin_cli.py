"""The Garmin commands as a user runs them, against the sandbox; and the demo function."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from sync.config import Settings, get_settings
from sync.garmin.demo import run_demo
from sync.garmin.sandbox import Sandbox
from tests.garmin_fixtures import SAMPLES
from tests.helpers import run_cli


@pytest.fixture
def cli_env(settings: Settings, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    monkeypatch.setenv("LEGDAY_GARMIN_BASE_URL", sandbox.url)
    monkeypatch.setenv("LEGDAY_GARMIN_MIN_INTERVAL_S", "0")
    monkeypatch.setenv("LEGDAY_GARMIN_INITIAL_DAYS", "7")
    get_settings.cache_clear()
    return sandbox


def test_add_tokens_sync_status_backfill(cli_env: Sandbox, tmp_path: Path) -> None:
    tokens = cli_env.issue_garth_tokens()
    garth_dir = tmp_path / "garth"
    garth_dir.mkdir()
    (garth_dir / "oauth1_token.json").write_text(json.dumps(tokens.oauth1))
    (garth_dir / "oauth2_token.json").write_text(json.dumps(tokens.oauth2))
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


def test_add_tokens_refuses_garbage_clearly(cli_env: Sandbox, tmp_path: Path) -> None:
    run_cli("athlete", "add", "ana", "--timezone", "UTC")
    bad = run_cli("garmin", "add-tokens", "--athlete", "ana", "--garth-token", "secret-ish-garbage")
    assert bad.exit_code == 2 and "secret-ish-garbage" not in bad.output
    both = run_cli("garmin", "add-tokens", "--athlete", "ana", "--garth-token", "x", "--di-tokens", tmp_path)
    assert both.exit_code == 2


def test_login_without_garminconnect_explains(cli_env: Sandbox) -> None:
    try:
        import garminconnect  # noqa: F401
    except ImportError:
        result = run_cli("garmin", "login", "--athlete", "x")
        assert result.exit_code == 2
    else:
        pytest.skip("garminconnect is installed here")


def test_run_demo(settings: Settings) -> None:
    result = run_demo(settings, SAMPLES)
    assert result.report.status == "ok" and result.requests > 0
    assert len({a.local_date for a in result.activities}) == 4
    assert result.activities[-1].lower_body_sets >= 6  # the leg day is yesterday
    assert result.wellness_days >= 50
