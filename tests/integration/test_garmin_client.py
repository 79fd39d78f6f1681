"""The Garmin client through garth against the sandbox (real HTTP on loopback)."""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from sync.config import Settings
from sync.garmin.client import GarminClient
from sync.garmin.errors import GarminAuthError, GarminRateLimited, GarminUnavailable
from sync.garmin.tokens import DITokens, GarthTokens
from sync.sandbox import Sandbox

FUTURE = date.today() + timedelta(days=30)


@pytest.fixture
def gsettings(tmp_path: Path, sandbox: Sandbox) -> Settings:
    return Settings(
        data_dir=tmp_path,
        garmin_base_url=sandbox.url,
        garmin_min_interval_s=0.0,
        garmin_backoff_s=0.05,
        garmin_timeout_s=1.0,
        garmin_429_backoff_s=1.0,
        secret_key=SecretStr(Fernet.generate_key().decode()),
    )


def no_login_calls(sb: Sandbox) -> bool:
    return not sb.requests(r"^/(sso|mobile|portal)/|preauthorized")


def test_expired_garth_token_is_exchanged_and_reported(sandbox: Sandbox, gsettings: Settings) -> None:
    tokens = sandbox.issue_garth_tokens(expires_in=-5)
    saved: list[object] = []
    client = GarminClient(tokens, gsettings, on_refresh=saved.append)
    assert client.profile().display_name == "example_user"
    assert len(saved) == 1 and isinstance(saved[0], GarthTokens)
    assert saved[0].oauth2["access_token"] != tokens.oauth2["access_token"]  # type: ignore[index]
    assert [r.path for r in sandbox.log] == [
        "/oauth_consumer.json",
        "/oauth-service/oauth/exchange/user/2.0",
        "/userprofile-service/socialProfile",
    ]
    assert sandbox.requests("exchange")[0].auth == "oauth1"
    assert client.requests == len(sandbox.log) == 3
    assert no_login_calls(sandbox)


def test_di_refresh_rotates_and_old_refresh_token_dies(sandbox: Sandbox, gsettings: Settings) -> None:
    tokens = sandbox.issue_di_tokens(expires_in=60)  # inside the 15-minute margin: refresh first
    saved: list[DITokens] = []
    client = GarminClient(tokens, gsettings, on_refresh=saved.append)  # type: ignore[arg-type]
    client.profile()
    assert len(saved) == 1 and saved[0].di_refresh_token != tokens.di_refresh_token
    assert saved[0].expires_at > time.time() + 3600
    assert sandbox.requests("/di-oauth2-service/oauth/token")[0].auth == "basic"
    stale = GarminClient(tokens, gsettings)  # someone still holding the old refresh token
    with pytest.raises(GarminAuthError, match="re-auth"):
        stale.profile()


@pytest.mark.parametrize("kind", ["garth", "di"])
def test_401_is_refreshed_once_then_retried(sandbox: Sandbox, gsettings: Settings, kind: str) -> None:
    tokens = sandbox.issue_garth_tokens() if kind == "garth" else sandbox.issue_di_tokens()
    saved: list[object] = []
    client = GarminClient(tokens, gsettings, on_refresh=saved.append)
    sandbox.expire_all_tokens()  # the server says "not active"; the client's clock disagrees
    assert client.activities(0, 5)
    assert len(saved) == 1
    statuses = [r.status for r in sandbox.requests("activitylist")]
    assert statuses == [401, 200]


def test_401_after_refresh_is_needs_reauth(sandbox: Sandbox, gsettings: Settings) -> None:
    client = GarminClient(sandbox.issue_garth_tokens(), gsettings)
    sandbox.faults.add("expire_token", "activitylist", times=None)
    with pytest.raises(GarminAuthError, match="re-auth"):
        client.activities(0, 5)
    assert len(sandbox.requests("exchange")) == 1  # exactly one refresh, no loop
    assert len(sandbox.requests("activitylist")) == 2
    assert no_login_calls(sandbox)


def test_dead_oauth1_token_is_needs_reauth(sandbox: Sandbox, gsettings: Settings) -> None:
    client = GarminClient(sandbox.issue_garth_tokens(expires_in=-1), gsettings)
    sandbox.revoke_refresh()
    with pytest.raises(GarminAuthError):
        client.profile()


def test_429_with_retry_after_surfaces_at_once(sandbox: Sandbox, gsettings: Settings) -> None:
    client = GarminClient(sandbox.issue_garth_tokens(), gsettings)
    sandbox.faults.add("status", "activitylist", status=429, retry_after="30", times=None)
    started = time.monotonic()
    with pytest.raises(GarminRateLimited) as info:
        client.activities()
    # urllib3 did not sleep on Retry-After: that would be 30 s, far beyond any slow machine.
    assert time.monotonic() - started < 15
    assert info.value.retry_after == 30.0 and info.value.from_header
    assert len(sandbox.requests("activitylist")) == 1


def test_429_without_retry_after_uses_configured_backoff(sandbox: Sandbox, gsettings: Settings) -> None:
    client = GarminClient(sandbox.issue_garth_tokens(), gsettings)
    sandbox.faults.add("cloudflare_429", "activitylist")
    with pytest.raises(GarminRateLimited) as info:
        client.activities()
    assert info.value.retry_after == gsettings.garmin_429_backoff_s and not info.value.from_header


def test_request_budget_answers_429(sandbox: Sandbox, gsettings: Settings) -> None:
    client = GarminClient(sandbox.issue_garth_tokens(), gsettings)
    sandbox.account.budget_per_minute = 3
    for _ in range(3):
        client.profile()
    with pytest.raises(GarminRateLimited):
        client.profile()


def test_5xx_burst_and_reset_and_truncation_are_survived(sandbox: Sandbox, gsettings: Settings) -> None:
    client = GarminClient(sandbox.issue_garth_tokens(), gsettings)
    sandbox.faults.add("status", "activitylist", status=503, times=2)
    assert client.activities()
    assert [r.status for r in sandbox.requests("activitylist")] == [503, 503, 200]
    sandbox.faults.add("reset", "socialProfile", times=1)
    assert client.profile().display_name == "example_user"
    sandbox.faults.add("truncate", "user-settings", times=1)
    assert client.user_settings()["userData"]
    assert client.requests == len(sandbox.log)


def test_persistent_5xx_and_hangs_are_bounded(sandbox: Sandbox, gsettings: Settings) -> None:
    client = GarminClient(sandbox.issue_garth_tokens(), gsettings)
    sandbox.faults.add("status", "activitylist", status=500, times=None)
    with pytest.raises(GarminUnavailable):
        client.activities()
    assert len(sandbox.requests("activitylist")) == gsettings.garmin_retries + 1
    sandbox.faults.add("hang", "socialProfile", seconds=1.5, times=None)
    started = time.monotonic()
    with pytest.raises(GarminUnavailable, match="timed out|connection"):
        client.profile()
    assert time.monotonic() - started < (gsettings.garmin_retries + 1) * 1.6 + 1


def test_no_data_answers_are_none_or_empty(sandbox: Sandbox, gsettings: Settings) -> None:
    client = GarminClient(sandbox.issue_di_tokens(), gsettings)
    assert client.hrv_day(FUTURE) is None  # 204
    assert client.hrv_range(FUTURE, FUTURE + timedelta(days=3)) == []  # 204
    assert client.daily_stress(FUTURE) is None  # 200 null
    assert client.training_readiness(FUTURE) == []  # 200 []
    assert client.sleep_day(FUTURE) is None  # null-id DTO
    assert client.activities(start=500) == []  # past the end
    assert client.exercise_sets(client.activities()[-1].activity_id) is None  # a run
    statuses = {r.status for r in sandbox.log}
    assert statuses == {200, 204}


def test_tokens_never_in_repr_or_errors(sandbox: Sandbox, gsettings: Settings) -> None:
    tokens = sandbox.issue_garth_tokens()
    access = tokens.oauth2["access_token"]  # type: ignore[index]
    client = GarminClient(tokens, gsettings)
    sandbox.faults.add("expire_token", "", times=None)
    with pytest.raises(GarminAuthError) as info:
        client.profile()
    di = sandbox.issue_di_tokens()
    for text in (repr(tokens), repr(client), str(info.value), repr(di)):
        assert access not in text and tokens.oauth1["oauth_token_secret"] not in text
        assert di.di_token not in text and di.di_refresh_token not in text


def test_workout_create_and_schedule(sandbox: Sandbox, gsettings: Settings) -> None:
    import json

    from sync.sandbox.bodies import TEMPLATES

    client = GarminClient(sandbox.issue_garth_tokens(), gsettings)
    workout = client.create_workout(json.loads((TEMPLATES / "workout_create_request.json").read_text()))
    day = date.today() + timedelta(days=1)
    scheduled = client.schedule_workout(workout["workoutId"], day)
    assert scheduled.schedule_id and scheduled.workout_id == workout["workoutId"] and scheduled.day == day
    client.delete_workout(workout["workoutId"])
    assert [r.method for r in sandbox.requests("workout-service")] == ["POST", "POST", "DELETE"]


@pytest.mark.parametrize("kind", ["di", "garth"])
def test_an_unsendable_token_is_our_error_without_the_token(
    sandbox: Sandbox, gsettings: Settings, kind: str
) -> None:
    # Parsing refuses such tokens now; older stored ones (or a bug) must still never reach a
    # traceback: requests' InvalidHeader quotes the whole "Bearer <token>" header.
    if kind == "di":
        tokens: DITokens | GarthTokens = sandbox.issue_di_tokens()
        secret = tokens.di_token + "\n"
        object.__setattr__(tokens, "di_token", secret)  # bypass the parse-time check
    else:
        tokens = sandbox.issue_garth_tokens()
        secret = tokens.oauth2["access_token"] + "\n"  # type: ignore[index]
        tokens.oauth2["access_token"] = secret  # type: ignore[index]
    client = GarminClient(tokens, gsettings)
    with pytest.raises(GarminAuthError) as info:
        client.profile()
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert "InvalidHeader" in str(info.value)
    for text in (str(info.value), repr(info.value)):
        assert secret.strip() not in text
        assert all(part not in text for part in secret.strip().split("."))
    assert sandbox.log == []  # nothing was sent


def test_transport_errors_in_a_di_refresh_never_carry_the_token(
    sandbox: Sandbox, gsettings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import requests

    tokens = sandbox.issue_di_tokens(expires_in=60)  # refresh first
    client = GarminClient(tokens, gsettings)

    def boom(*args: object, **kwargs: object) -> None:
        raise requests.exceptions.InvalidHeader(f"Invalid header value {tokens.di_refresh_token!r}")

    monkeypatch.setattr(client._garth.sess, "post", boom)
    with pytest.raises(GarminUnavailable) as info:
        client.profile()
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert tokens.di_refresh_token not in str(info.value)
