"""The sandbox's Personal API, spoken to over raw HTTP: what PERSONAL-API.md s.6 asks of it."""

from __future__ import annotations

import threading
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from io import BytesIO

import pytest
import requests

from sync.garmin.tokens import jwt_claims
from sync.sandbox import Sandbox
from sync.sandbox.personal_api import PERSONAL_API_HOST, TOKEN_PATH

HOST = {"Host": PERSONAL_API_HOST}


@pytest.fixture
def sb(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The sandbox; the limits these tests break on purpose are forgotten afterwards."""
    yield sandbox
    sandbox.personal_api_violations.clear()


def exchange(sb: Sandbox, key: str) -> requests.Response:
    return requests.post(sb.url + TOKEN_PATH, headers={**HOST, "Authorization": f"ApiKey {key}"}, timeout=5)


def get(sb: Sandbox, token: str | None, path: str, accept: str = "application/json", **params: object):  # noqa: ANN201
    headers = {**HOST, "Accept": accept}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.get(sb.url + path, headers=headers, params=params, timeout=5)


def token(sb: Sandbox) -> str:
    answer = exchange(sb, sb.issue_personal_api_key())
    assert answer.status_code == 200
    return answer.text


def test_the_exchange_answers_a_jwt_as_plain_text(sb: Sandbox) -> None:
    key = sb.issue_personal_api_key(expires_in_days=30)
    answer = exchange(sb, key)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/plain")
    claims = jwt_claims(answer.text)
    assert claims["exp"] == pytest.approx(sb.clock.now() + 86400, abs=5)
    assert exchange(sb, "GCDC_unknown").status_code == 401
    sb.clock.advance(31 * 86400)
    assert exchange(sb, key).status_code == 401  # the key's own expiry
    other = sb.issue_personal_api_key()
    sb.revoke_personal_api_key(other)
    assert exchange(sb, other).status_code == 401


def test_every_get_checks_its_bearer(sb: Sandbox) -> None:
    path = "/userprofile-service/userprofile/settings"
    bearer = token(sb)
    assert get(sb, bearer, path).status_code == 200
    assert get(sb, None, path).status_code == 401
    connect_token = sb.issue_di_tokens().di_token
    assert get(sb, connect_token, path).status_code == 401  # Connect's tokens are not this API's
    assert (
        requests.get(
            sb.url + "/userprofile-service/socialProfile",
            timeout=5,
            headers={"Authorization": f"Bearer {bearer}"},
        ).status_code
        == 401
    )
    sb.clock.advance(86400 + 1)
    assert get(sb, bearer, path).status_code == 401  # expired


def test_page_size_and_range_caps(sb: Sandbox) -> None:
    bearer = token(sb)
    lists = "/activitylist-service/activities/search/activities"
    assert get(sb, bearer, lists, start=0, limit=45).status_code == 200
    assert get(sb, bearer, lists, start=0, limit=46).status_code == 500
    assert get(sb, bearer, lists, start=0).status_code == 500  # the server's own default is 99
    today = sb.clock.today("UTC")
    for path, cap in (
        ("/sleep-service/sleep/dailySleepSummariesByDate", 31),
        ("/wellness-service/wellness/bodyBattery/reports/daily", 31),
        ("/usersummary-service/v2/dailysummaries", 31),
    ):
        ok = get(sb, bearer, path, startDate=(today - timedelta(days=cap - 1)).isoformat(), endDate=today)
        over = get(sb, bearer, path, startDate=(today - timedelta(days=cap)).isoformat(), endDate=today)
        assert (ok.status_code, over.status_code) == (200, 400), path
        assert isinstance(ok.json(), list) and ok.json()
    for prefix, cap in (("/hrv-service/hrv/daily", 365), ("/usersummary-service/stats/stress/daily", 28)):
        ok = get(sb, bearer, f"{prefix}/{today - timedelta(days=cap - 1)}/{today}")
        over = get(sb, bearer, f"{prefix}/{today - timedelta(days=cap)}/{today}")
        assert (ok.status_code, over.status_code) == (200, 400), prefix
    assert len(sb.personal_api_violations) == 7  # each refusal above is on record for the tests


def test_the_download_needs_the_zip_accept_type(sb: Sandbox) -> None:
    bearer = token(sb)
    activity = sb.account.newest_first()[0].activity_id
    path = f"/download-service/files/activity/{activity}"
    assert get(sb, bearer, path, accept="application/octet-stream").status_code == 406
    answer = get(sb, bearer, path, accept="application/x-zip-compressed")
    assert answer.status_code == 200
    assert zipfile.ZipFile(BytesIO(answer.content)).namelist()[0].endswith(".fit")
    assert sb.personal_api_violations == [f"download without Accept: application/x-zip-compressed ({path})"]


def test_no_readiness_no_exercise_sets_no_writes(sb: Sandbox) -> None:
    bearer = token(sb)
    today = sb.clock.today("UTC")
    activity = sb.account.newest_first()[0].activity_id
    assert get(sb, bearer, f"/metrics-service/metrics/trainingreadiness/{today}").status_code == 404
    assert get(sb, bearer, f"/activity-service/activity/{activity}/exerciseSets").status_code == 404
    assert get(sb, bearer, f"/activity-service/activity/{activity}").status_code == 200
    write = requests.post(
        sb.url + "/workout-service/workout",
        json={},
        timeout=5,
        headers={**HOST, "Authorization": f"Bearer {bearer}"},
    )
    assert write.status_code == 405


def test_the_same_seeded_data_as_the_connect_routes(sb: Sandbox) -> None:
    bearer = token(sb)
    today = sb.clock.today("UTC")
    start = today - timedelta(days=20)
    personal = get(sb, bearer, f"/hrv-service/hrv/daily/{start}/{today}").json()["hrvSummaries"]
    di = sb.issue_di_tokens().di_token
    connect = requests.get(
        f"{sb.url}/hrv-service/hrv/daily/{start}/{today}",
        headers={"Authorization": f"Bearer {di}"},
        timeout=5,
    ).json()["hrvSummaries"]
    assert [(x["calendarDate"], x["lastNightAvg"]) for x in personal] == [
        (x["calendarDate"], x["lastNightAvg"]) for x in connect
    ]
    night = get(sb, bearer, "/sleep-service/sleep/dailySleep", date=today - timedelta(days=1)).json()
    assert "sleepTimeSeconds" in night and "dailySleepDTO" not in night  # the DTO at the top level
    assert isinstance(night["sleepStartTimestampGMT"], int)  # epoch ms
    ids = [
        a["activityId"]
        for a in get(
            sb, bearer, "/activitylist-service/activities/search/activities", start=0, limit=45
        ).json()
    ]
    assert ids == [a.activity_id for a in sb.account.newest_first()]


def test_more_than_two_at_once_is_429_with_retry_after(sb: Sandbox) -> None:
    bearer = token(sb)
    sb.faults.latency_ms = 300
    statuses: list[tuple[int, str | None]] = []
    barrier = threading.Barrier(4)

    def one() -> None:
        barrier.wait()
        answer = get(sb, bearer, "/userprofile-service/userprofile/settings")
        statuses.append((answer.status_code, answer.headers.get("Retry-After")))

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refused = [s for s in statuses if s[0] == 429]
    assert refused and all(retry == "14" for _, retry in refused)
    assert len([s for s in statuses if s[0] == 200]) <= 2
    assert sb.personal_api_violations and "at once" in sb.personal_api_violations[0]
