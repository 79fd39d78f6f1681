"""The sandbox is the only fake in the suite: its answers must have Garmin's shapes.

Every file in ../shared/garmin-connect/samples is compared (recursive key sets and value
types; null matches any type, int matches float) with what the sandbox serves for it.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from sync.garmin.tokens import garth_from_string
from sync.sandbox import Sandbox
from testkit.garmin_fixtures import SAMPLES
from tests.conftest import require_shared


def samples_dir() -> Path:
    """../shared/garmin-connect/samples: skipped locally without it, a failure under CI=true."""
    return require_shared("garmin-connect/samples")


def shape_diff(sample: Any, served: Any, where: str = "$") -> list[str]:
    """Differences between two JSON values' shapes."""
    if sample is None or served is None:
        return []
    if isinstance(sample, bool) or isinstance(served, bool):
        return [] if isinstance(sample, bool) and isinstance(served, bool) else [f"{where}: bool vs other"]
    if isinstance(sample, int | float) and isinstance(served, int | float):
        return []
    if type(sample) is not type(served):
        return [f"{where}: {type(sample).__name__} in sample, {type(served).__name__} served"]
    if isinstance(sample, dict):
        out = []
        if set(sample) != set(served):
            out.append(
                f"{where}: missing {sorted(set(sample) - set(served))}, "
                f"extra {sorted(set(served) - set(sample))}"
            )
        for key in set(sample) & set(served):
            out += shape_diff(sample[key], served[key], f"{where}.{key}")
        return out
    if isinstance(sample, list):
        if not sample or not served:
            return []
        if all(not isinstance(v, dict | list) for v in sample):  # a positional tuple
            out = []
            for i, (a, b) in enumerate(zip(sample, served, strict=False)):
                out += shape_diff(a, b, f"{where}[{i}]")
            return out
        out = []
        for item in served[:5]:
            # Garmin's lists mix kinds (a run and a paddle entry differ): any sample kind fits.
            diffs = [shape_diff(s, item, f"{where}[]") for s in sample]
            best = min(diffs, key=len)
            out += best
        return out
    return []


@pytest.fixture(scope="module")
def served() -> Any:
    samples_dir()
    with Sandbox(fit_dir=SAMPLES, sso="open") as sb:
        tokens = sb.issue_garth_tokens()
        di = sb.issue_di_tokens()
        sess = requests.Session()
        sess.headers["Authorization"] = f"Bearer {tokens.oauth2['access_token']}"  # type: ignore[index]
        acts = sb.account.newest_first()
        strength = next(a for a in acts if a.is_strength)
        run = next(a for a in acts if not a.is_strength)
        day = (date.today() - timedelta(days=1)).isoformat()
        far = "2030-01-01"
        name = sb.account.display_name

        def get(path: str, **params: Any) -> Any:
            resp = sess.get(sb.url + path, params=params, timeout=5)
            return resp

        def body(path: str, **params: Any) -> Any:
            resp = get(path, **params)
            assert resp.status_code == 200, (path, resp.status_code)
            return resp.json()

        workout_req = json.loads((samples_dir() / "workout_create_request.json").read_text())
        created = sess.post(sb.url + "/workout-service/workout", json=workout_req, timeout=5).json()
        scheduled = sess.post(
            sb.url + f"/workout-service/schedule/{created['workoutId']}", json={"date": day}, timeout=5
        ).json()
        exchange = requests.post(
            sb.url + "/oauth-service/oauth/exchange/user/2.0",
            timeout=5,
            headers={
                "Authorization": f'OAuth oauth_consumer_key="SANDBOX_CONSUMER_KEY", '
                f'oauth_token="{tokens.oauth1["oauth_token"]}"'
            },
        ).json()
        di_reply = requests.post(
            sb.url + "/di-oauth2-service/oauth/token",
            timeout=5,
            headers={"Authorization": "Basic " + base64.b64encode(f"{di.di_client_id}:".encode()).decode()},
            data={
                "grant_type": "refresh_token",
                "client_id": di.di_client_id,
                "refresh_token": di.di_refresh_token,
            },
        ).json()
        sso = lambda creds: requests.post(sb.url + "/mobile/api/login", json=creds, timeout=5)  # noqa: E731
        download = get(f"/download-service/files/activity/{strength.activity_id}")
        answers = {
            "activity_list.json": body(
                "/activitylist-service/activities/search/activities", start=0, limit=3
            ),
            "activity_list_start2_limit2.json": body(
                "/activitylist-service/activities/search/activities", start=2, limit=2
            ),
            "activity_strength.json": body(
                "/activitylist-service/activities/search/activities",
                activityType="strength_training",
                limit=1,
            )[0],
            "activity_summary.json": body(f"/activity-service/activity/{run.activity_id}"),
            "exercise_sets.json": body(f"/activity-service/activity/{strength.activity_id}/exerciseSets"),
            "exercise_sets_non_strength.json": body(
                f"/activity-service/activity/{run.activity_id}/exerciseSets"
            ),
            "body_battery.json": body(f"/wellness-service/wellness/dailyStress/{day}"),
            "body_battery_events.json": body(f"/wellness-service/wellness/bodyBattery/events/{day}"),
            "body_battery_reports_daily.json": body(
                "/wellness-service/wellness/bodyBattery/reports/daily", startDate=day, endDate=day
            ),
            "daily_heart_rate.json": body("/wellness-service/wellness/dailyHeartRate/", date=day),
            "daily_heart_rate_no_readings.json": body("/wellness-service/wellness/dailyHeartRate/", date=far),
            "daily_summary.json": body(f"/usersummary-service/usersummary/daily/{name}", calendarDate=day),
            "hrv_daily.json": body(f"/hrv-service/hrv/{day}"),
            "hrv_range.json": body(
                f"/hrv-service/hrv/daily/{(date.today() - timedelta(days=20)).isoformat()}/{day}"
            ),
            "sleep_daily.json": body("/sleep-service/sleep/dailySleepData", date=day),
            "sleep_daily_no_data.json": body("/sleep-service/sleep/dailySleepData", date=far),
            "sleep_daily_wellness_service.json": body(
                f"/wellness-service/wellness/dailySleepData/{name}", date=day, nonSleepBufferMinutes=60
            ),
            "sleep_score_range.json": body(f"/wellness-service/stats/daily/sleep/score/{day}/{day}"),
            "training_readiness.json": body(f"/metrics-service/metrics/trainingreadiness/{day}"),
            "training_readiness_no_input_context.json": body(
                f"/metrics-service/metrics/trainingreadiness/{day}"
            ),
            "training_status.json": body(f"/mobile-gateway/usersummary/trainingstatus/latest/{day}"),
            "training_status_aggregated.json": body(
                f"/metrics-service/metrics/trainingstatus/aggregated/{day}"
            ),
            "social_profile.json": body("/userprofile-service/socialProfile"),
            "user_settings.json": body("/userprofile-service/userprofile/user-settings"),
            "heart_rate_zones.json": body("/biometric-service/heartRateZones"),
            "error_404_not_found.json": get("/activity-service/activity/1").json(),
            "oauth_consumer.json": requests.get(sb.url + "/oauth_consumer.json", timeout=5).json(),
            "token_exchange.json": exchange,
            "di_token_response.json": di_reply,
            "garmin_tokens.json": json.loads(di.to_json()),
            "garth_oauth1_token.json": tokens.oauth1,
            "garth_oauth2_token.json": tokens.oauth2,
            "workout_create_request.json": workout_req,
            "workout_detail.json": created,
            "workout_schedule_response.json": scheduled,
            "sso_login_successful.json": sso(
                {"username": sb.account.email, "password": sb.account.password}
            ).json(),
            "sso_login_mfa_required.json": sso(
                {"username": sb.account.email, "password": sb.account.password, "mfa": True}
            ).json(),
            "sso_login_invalid_credentials.json": sso({"username": "x", "password": "y"}).json(),
            "sso_mfa_verify_successful.json": requests.post(
                sb.url + "/mobile/api/mfa/verifyCode", timeout=5
            ).json(),
        }
        other = sb.add_account(type(sb.account)(display_name="someone_else", profile_id=99))
        other.activities = [acts[-1]]
        sb.account.activities = acts[:-1]
        answers["error_403_not_owner.json"] = get(
            f"/download-service/files/activity/{acts[-1].activity_id}"
        ).json()
        texts = {
            "oauth1_preauthorized.txt": requests.get(
                sb.url + "/oauth-service/oauth/preauthorized", timeout=5
            ).text,
            "garth_dumps_token.txt": base64.b64encode(
                json.dumps([tokens.oauth1, tokens.oauth2]).encode()
            ).decode(),
        }
        yield answers, texts, download, sb


def test_every_sample_has_a_served_counterpart(served: Any) -> None:
    answers, texts, download, _ = served
    names = {p.name for p in samples_dir().iterdir()}
    covered = set(answers) | set(texts) | {"download_activity.zip"}
    assert names <= covered, f"samples with no sandbox check: {sorted(names - covered)}"


def test_json_shapes_match_samples(served: Any) -> None:
    answers, _, _, _ = served
    problems = {}
    for name, value in answers.items():
        sample = json.loads((samples_dir() / name).read_text())
        if name.startswith("activity_list"):
            # One list holds every kind of activity: any recorded entry kind may appear.
            sample = [
                *json.loads((samples_dir() / "activity_list.json").read_text()),
                *json.loads((samples_dir() / "activity_list_start2_limit2.json").read_text()),
                json.loads((samples_dir() / "activity_strength.json").read_text()),
            ]
        if isinstance(sample, list) and not isinstance(value, list):
            sample = sample[0]
        diff = shape_diff(sample, value)
        if diff:
            problems[name] = diff[:5]
    assert not problems, json.dumps(problems, indent=1)


def test_text_bodies_and_download_match_samples(served: Any) -> None:
    answers, texts, download, _ = served
    sample_pre = dict(
        p.split("=", 1) for p in (samples_dir() / "oauth1_preauthorized.txt").read_text().strip().split("&")
    )
    served_pre = dict(p.split("=", 1) for p in texts["oauth1_preauthorized.txt"].strip().split("&"))
    assert set(sample_pre) == set(served_pre)
    sample_tokens = garth_from_string((samples_dir() / "garth_dumps_token.txt").read_text())
    served_tokens = garth_from_string(texts["garth_dumps_token.txt"])
    assert set(sample_tokens.oauth1) == set(served_tokens.oauth1)
    assert set(sample_tokens.oauth2 or {}) == set(served_tokens.oauth2 or {})
    assert download.headers["Content-Type"] == "application/x-zip-compressed"
    assert download.headers["Content-Disposition"].startswith("attachment; filename=")
    sample_zip = zipfile.ZipFile(samples_dir() / "download_activity.zip")
    served_zip = zipfile.ZipFile(io.BytesIO(download.content))
    for zf in (sample_zip, served_zip):
        (info,) = zf.infolist()
        assert info.filename.endswith("_ACTIVITY.fit") and info.compress_type == zipfile.ZIP_DEFLATED
        assert zf.read(info)[8:12] == b".FIT"


def test_no_data_days_answer_as_recorded(served: Any) -> None:
    _, _, _, sb = served
    sess = requests.Session()
    sess.headers["Authorization"] = f"Bearer {sb.issue_garth_tokens().oauth2['access_token']}"
    hrv = sess.get(sb.url + "/hrv-service/hrv/2030-01-01", timeout=5)
    assert hrv.status_code == 204 and hrv.content == b"" and "Content-Type" not in hrv.headers
    assert sess.get(sb.url + "/wellness-service/wellness/dailyStress/2030-01-01", timeout=5).text == "null"
    assert sess.get(sb.url + "/metrics-service/metrics/trainingreadiness/2030-01-01", timeout=5).json() == []
    unauth = requests.get(sb.url + "/userprofile-service/socialProfile", timeout=5)
    assert unauth.status_code == 401 and "invalid_token" in unauth.headers["WWW-Authenticate"]
    assert sb.requests("socialProfile")[-1].status == 401


def test_starting_a_serving_sandbox_again_is_a_no_op() -> None:
    """`legday sandbox serve` starts the sandbox, writes tokens, then serves: one bind."""
    sandbox = Sandbox(fit_dir=None).start()
    try:
        assert sandbox.start() is sandbox
        assert requests.get(sandbox.url + "/userprofile-service/socialProfile", timeout=5).status_code == 401
    finally:
        sandbox.stop()
