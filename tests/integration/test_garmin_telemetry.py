"""garth's telemetry (which would ship Garmin response bodies, i.e. health data, to a third
party) stays off whatever GARTH_TELEMETRY_* says."""

from __future__ import annotations

import pytest
from garth.telemetry import Telemetry

from sync.garmin_sync import sync_account
from tests.garmin_fixtures import GarminEnv


def test_telemetry_is_pinned_off_even_when_the_environment_enables_it(
    garmin_env: GarminEnv, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GARTH_TELEMETRY_ENABLED", "true")
    monkeypatch.setenv("GARTH_TELEMETRY_SEND_TO_LOGFIRE", "true")
    monkeypatch.setenv("GARTH_TELEMETRY_TOKEN", "someone-elses-write-token")
    assert Telemetry().enabled is True  # what garth alone would do with this environment

    env = garmin_env
    account = env.link(env.athlete())
    client = env.client(account)
    captured: list[dict] = []
    client._garth.sess.hooks["response"].append(lambda r, *a, **k: captured.append({"url": r.url}))

    report = sync_account(env.session, account, client, settings=env.settings)

    assert report.status in ("ok", "partial") and report.requests > 0 and captured  # it did talk
    telemetry = client._garth.telemetry
    assert telemetry.enabled is False and telemetry.send_to_logfire is False
    assert telemetry._logfire_configured is False
    assert "Garth session" not in capsys.readouterr().out
