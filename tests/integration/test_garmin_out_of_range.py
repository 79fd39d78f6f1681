"""Issue 18 item 8: one out-of-range value from Garmin never disables an athlete.

The sandbox serves a negative HRV and 25 h of sleep (and a resting HR of 400): the adapter drops
those values with a logged reason and keeps the day's others. A bad value stored before that
rule existed never fails a day either: the verdict's gathering drops it with a reason. Either
way `legday today`, the API, the watch feed and the morning email all work, on SQLite and
PostgreSQL, over real HTTP (sandbox, uvicorn) and real SMTP.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from sync.config import Settings, get_settings
from sync.db.models import Athlete, EmailDelivery, WellnessDay
from sync.db.session import session_scope
from sync.morning_email import dispatch_due_emails
from sync.scheduling import local_today
from sync.verdicts.compute import verdict_time
from sync.web.api_tokens import issue_token
from sync.web.app import create_app
from testkit import local_http
from testkit.factories import make_athlete
from testkit.garmin_fixtures import GarminEnv
from testkit.helpers import run_cli
from testkit.report_server import serve
from testkit.smtp_server import SmtpServer

SECRET = "a-test-secret-for-signed-links-0123456789"


def _every_output_works(settings: Settings, athlete_id: int, smtp_server: SmtpServer) -> None:
    """`legday today`, the API, the watch feed and the morning email, for today."""
    with session_scope(settings) as s:
        athlete = s.get(Athlete, athlete_id)
        assert athlete is not None
        name, token = athlete.name, issue_token(s, athlete)
        send_at = verdict_time(athlete, local_today(athlete.timezone))
    result = run_cli("today", "--athlete", name)
    assert result.exit_code == 0, result.output
    assert any(flag in result.output for flag in ("RUN", "EASY", "REST")), result.output
    with serve(create_app(settings)) as url:
        headers = {"Authorization": f"Bearer {token}"}
        api = local_http.get(f"{url}/v1/verdicts/today", headers=headers, timeout=10)
        assert api.status_code == 200, api.text
        assert api.json()["flag"] in ("RUN", "EASY", "REST")
        watch = local_http.get(f"{url}/v1/watch", headers=headers, timeout=10)
        assert watch.status_code == 200, watch.text
    summary = dispatch_due_emails(max(send_at, datetime.now(UTC)) + timedelta(minutes=1), settings=settings)
    assert (summary.sent, summary.failed) == (1, 0), summary.line()
    with session_scope(settings) as s:
        (delivery,) = s.scalars(select(EmailDelivery)).all()
        assert delivery.status == "sent"
    assert smtp_server.recorder.to(f"{name}@example.org")


def _service_settings(base: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """`base` with the SMTP sink and a link secret (the CLI and dispatcher read the environment)."""
    monkeypatch.setenv("LEGDAY_REPORT_SECRET", SECRET)
    get_settings.cache_clear()
    env = get_settings()
    keys = ("report_secret", "smtp_host", "smtp_port", "smtp_security", "smtp_timeout_s", "mail_from")
    return base.model_copy(update={k: getattr(env, k) for k in keys})


def test_out_of_range_values_from_garmin_are_dropped_and_the_day_keeps_the_rest(
    garmin_env: GarminEnv,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    env = garmin_env
    settings = _service_settings(env.settings, monkeypatch)
    athlete = env.athlete("ana")
    athlete.email, athlete.max_hr, athlete.rest_hr = "ana@example.org", 188, 48
    account = env.link(athlete)
    today = local_today(athlete.timezone)
    served = env.sandbox.account.wellness_day(today, today)
    assert served is not None and served.resting_hr is not None and served.body_battery_high is not None
    env.sandbox.account.wellness_overrides[today] = {"hrv_last_night": -12, "sleep_seconds": 25 * 3600}
    env.sandbox.account.wellness_overrides[today - timedelta(days=1)] = {"resting_hr": 400}
    with caplog.at_level(logging.WARNING, logger="sync.garmin"):
        report = env.sync(account, settings=settings)
    assert report.status == "ok", report.message
    env.session.expire_all()
    row = env.session.scalars(
        select(WellnessDay).where(WellnessDay.athlete_id == athlete.id, WellnessDay.date == today)
    ).one()
    assert row.hrv_last_night_ms is None and row.sleep_seconds is None  # dropped
    assert row.resting_hr == served.resting_hr and row.body_battery is not None  # the rest kept
    assert row.sleep_score == served.sleep_score
    yesterday = env.session.scalars(
        select(WellnessDay).where(
            WellnessDay.athlete_id == athlete.id, WellnessDay.date == today - timedelta(days=1)
        )
    ).one()
    assert yesterday.resting_hr is None and yesterday.hrv_last_night_ms is not None
    reasons = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert any("HRV" in m and "-12" in m for m in reasons), reasons
    assert any("sleep" in m and "90000" in m for m in reasons), reasons
    assert any("resting HR" in m and "400" in m for m in reasons), reasons
    env.session.commit()
    _every_output_works(settings, athlete.id, smtp_server)


def test_a_bad_value_already_stored_never_fails_a_day(
    db_settings: Settings,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = _service_settings(db_settings, monkeypatch)
    with session_scope(settings) as s:
        athlete = make_athlete(s, "bo", email="bo@example.org", max_hr=190, rest_hr=50)
        today = local_today(athlete.timezone)
        for back in range(20):
            s.add(
                WellnessDay(
                    athlete_id=athlete.id,
                    date=today - timedelta(days=back),
                    hrv_last_night_ms=-12.0 if back == 9 else 50.0 + back % 4,
                    resting_hr=-3.0 if back == 4 else 50.0,
                    # Stored before the adapter's rule: 25 h of sleep last night.
                    sleep_seconds=25 * 3600 if back == 0 else 7 * 3600,
                    recovery_time_h=-5.0 if back == 0 else None,
                )
            )
        athlete_id = athlete.id
    with caplog.at_level(logging.WARNING, logger="sync.verdicts.compute"):
        _every_output_works(settings, athlete_id, smtp_server)
    reasons = " | ".join(r.getMessage() for r in caplog.records if "dropped" in r.getMessage())
    for what in ("hrv_ms", "resting_hr", "sleep_hours", "garmin_recovery_hours"):
        assert what in reasons, reasons
