"""garth's telemetry (which would ship Garmin response bodies, i.e. health data, to a third
party) stays off whatever GARTH_TELEMETRY_* says."""

from __future__ import annotations

import subprocess
import sys

import pytest
from garth.telemetry import Telemetry

from sync.db.tx import keep_progress
from sync.garmin_sync import sync_account
from testkit.garmin_fixtures import GarminEnv
from testkit.helpers import REPO


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

    report = sync_account(
        env.session, account, client, settings=env.settings, checkpoint=keep_progress(env.session)
    )

    assert report.status in ("ok", "partial") and report.requests > 0 and captured  # it did talk
    telemetry = client._garth.telemetry
    assert telemetry.enabled is False and telemetry.send_to_logfire is False
    assert telemetry._logfire_configured is False
    assert "Garth session" not in capsys.readouterr().out


# A real `legday` process; at exit it reports what garth's own module-level client (built by
# garth at import, outside legday's client) made of the environment.
LEGDAY_WITH_PROBE = """
import atexit, sys

def probe():
    http = sys.modules.get("garth.http")
    if http is not None:
        t = http.client.telemetry
        print(f"PROBE garth imported enabled={t.enabled} logfire={t._logfire_configured}", file=sys.stderr)

atexit.register(probe)
from sync.cli import main
main()
"""


@pytest.mark.parametrize(
    "command",
    [
        ["sync"],
        ["backfill", "--since", "2026-11-01"],
        ["garmin", "add-tokens", "--athlete", "ana", "--garth-dir", "/nonexistent"],
    ],
)
def test_no_legday_command_obeys_garth_telemetry_variables(
    child_env: dict[str, str], command: list[str]
) -> None:
    env = dict(
        child_env,
        GARTH_TELEMETRY_ENABLED="true",
        GARTH_TELEMETRY_SEND_TO_LOGFIRE="false",  # never let a failing test reach the network
        GARTH_TELEMETRY_TOKEN="someone-elses-write-token",
    )
    result = subprocess.run(
        [sys.executable, "-c", LEGDAY_WITH_PROBE, *command],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert "Garth session" not in output
    assert "PROBE garth imported" in result.stderr, output  # the probe saw garth: the test is live
    assert "PROBE garth imported enabled=False logfire=False" in result.stderr
