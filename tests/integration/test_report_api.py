"""The report API over real HTTP (uvicorn on a loopback port), on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from sync.config import Settings
from sync.db.models import Athlete, VerdictRecord
from sync.db.session import session_scope
from sync.links.build import report_link, sign_link
from sync.links.secret import report_key
from sync.links.signing import sign
from sync.verdicts.compute import compute_verdict
from sync.verdicts.policy import days_after_sync
from sync.verdicts.read import athlete_today
from sync.web.api_tokens import revoke_token
from sync.web.app import create_app
from testkit import local_http
from testkit.helpers import redis_db_url
from testkit.report_server import Seeded, seed_athlete, serve

VERDICT_FIELDS = {"flag", "codes", "reasons", "prescription", "unknown", "model_version", "date"}


@dataclass
class Env:
    """A running server and two athletes."""

    url: str
    settings: Settings
    ana: Seeded
    bob: Seeded
    clock: list[float]  # the server's clock (epoch seconds): the rate limit counts on it

    def get(self, path: str, token: str | None = None, **kw: object) -> httpx.Response:
        headers = dict(kw.pop("headers", {}) or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return local_http.get(self.url + path, headers=headers, timeout=10, **kw)

    def post(self, path: str, token: str | None = None, **kw: object) -> httpx.Response:
        headers = dict(kw.pop("headers", {}) or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return local_http.post(self.url + path, headers=headers, timeout=10, **kw)


@pytest.fixture
def env(db_settings: Settings) -> Iterator[Env]:
    settings = db_settings.model_copy(update={"report_secret": SecretStr("test-report-secret")})
    ana = seed_athlete(settings, "ana")
    bob = seed_athlete(settings, "bob", history=False)
    clock = [time.time() // 60 * 60 + 59]  # a second before a minute boundary
    with serve(create_app(settings, clock=lambda: clock[0])) as url:
        yield Env(url, settings, ana, bob, clock)


def _refusal(r: httpx.Response) -> tuple[int, bytes, str | None]:
    return r.status_code, r.content, r.headers.get("www-authenticate")


def test_own_data_and_the_same_401_for_every_bad_token(env: Env) -> None:
    today = env.get("/v1/verdicts/today", env.ana.token)
    assert today.status_code == 200
    body = today.json()
    assert body.keys() >= VERDICT_FIELDS and body["date"] == body["day"]
    assert env.get(f"/v1/verdicts/{body['date']}", env.ana.token).json() == body
    listed = env.get("/v1/verdicts", env.ana.token, params={"from": body["date"], "to": body["date"]})
    assert listed.json() == {"verdicts": [body]}
    # Bob's token names Bob: his verdict (no history: no recent data), never Ana's.
    assert "NO_RECENT_DATA" in env.get("/v1/verdicts/today", env.bob.token).json()["codes"]
    assert "NO_RECENT_DATA" not in body["codes"]

    with session_scope(env.settings) as session:
        revoke_token(session, session.get(Athlete, env.bob.id))
    refusals = [
        env.get("/v1/verdicts/today"),
        env.get("/v1/verdicts/today", "ldy_" + "x" * 43),
        env.get("/v1/verdicts/today", env.bob.token),  # revoked
        env.get("/v1/verdicts/today", headers={"Authorization": f"Basic {env.ana.token}"}),
        env.get("/v1/verdicts/today", env.ana.token + "x"),
        env.get("/v1/verdicts/today", headers={"Authorization": ("Bearer " + "é" * 300).encode("latin-1")}),
    ]
    assert {_refusal(r) for r in refusals} == {
        (401, b'{"detail":"a valid bearer token is required"}', "Bearer")
    }
    for path in ("/v1/watch", "/v1/verdicts/2026-01-01", "/v1/verdicts?from=2026-01-01&to=2026-01-02"):
        assert _refusal(env.get(path, "wrong")) == _refusal(refusals[0])
    assert _refusal(env.post("/v1/soreness", env.bob.token, json={"value": 3})) == _refusal(refusals[0])


def test_validation_errors_are_422_with_a_message(env: Env) -> None:
    tok = env.ana.token
    assert env.get("/v1/verdicts/2026-13-01", tok).status_code == 422
    too_long = env.get("/v1/verdicts", tok, params={"from": "2025-01-01", "to": "2026-01-02"})
    assert too_long.status_code == 422 and "366" in too_long.text
    backwards = env.get("/v1/verdicts", tok, params={"from": "2026-01-02", "to": "2026-01-01"})
    assert backwards.status_code == 422
    assert env.get("/v1/verdicts", tok, params={"from": "2026-01-02"}).status_code == 422
    for body in ({"value": 11}, {"value": -1}, {"value": "8"}, {"value": 3, "extra": 1}, {}, {"value": 3.5}):
        r = env.post("/v1/soreness", tok, json=body)
        assert r.status_code == 422, body
        assert r.json()["detail"]
    far = env.post("/v1/soreness", tok, json={"value": 3, "date": "2001-01-01"})
    assert far.status_code == 422 and "tomorrow" in far.text
    assert (
        env.post(
            "/v1/soreness", tok, content=b"{not json", headers={"content-type": "application/json"}
        ).status_code
        == 422
    )
    big = env.post(
        "/v1/soreness", tok, content=b"{" + b" " * 10_000 + b"}", headers={"content-type": "application/json"}
    )
    assert big.status_code == 413
    assert env.get("/v1/verdicts/1999-01-01", tok).status_code == 404


def test_soreness_recomputes_and_is_rate_limited(env: Env) -> None:
    r = env.post("/v1/soreness", env.ana.token, json={"value": 8})
    assert r.status_code == 200
    assert r.json()["flag"] == "REST" and "SORE_SEVERE" in r.json()["codes"]
    assert env.get("/v1/verdicts/today", env.ana.token).json()["flag"] == "REST"
    limit = env.settings.soreness_rate_per_minute
    post = {"json": {"value": 2}}
    statuses = [env.post("/v1/soreness", env.ana.token, **post).status_code for _ in range(limit - 2)]
    env.clock[0] += 2  # straddle the boundary: the window slides, it does not reset
    statuses.append(env.post("/v1/soreness", env.ana.token, json={"value": 2}).status_code)
    assert statuses == [200] * (limit - 1)
    limited = env.post("/v1/soreness", env.ana.token, json={"value": 2})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    env.clock[0] += 61  # a minute after all of them: allowed again
    assert env.post("/v1/soreness", env.ana.token, json={"value": 2}).status_code == 200
    # Another athlete has his own allowance.
    assert env.post("/v1/soreness", env.bob.token, json={"value": 2}).status_code == 200


def test_watch_is_tiny_with_etag_and_304(env: Env) -> None:
    r = env.get("/v1/watch", env.ana.token)
    assert r.status_code == 200 and len(r.content) < 300
    body = r.json()
    assert set(body) == {"flag", "date", "advice", "max_minutes", "max_hr", "updated"}
    assert len(body["advice"]) <= 60
    assert "max-age" in r.headers["cache-control"] and r.headers["vary"] == "Authorization"
    etag = r.headers["etag"]
    again = env.get("/v1/watch", env.ana.token, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    bob = env.get("/v1/watch", env.bob.token).json()
    assert "no recent data" in bob["advice"].lower()
    env.post("/v1/soreness", env.ana.token, json={"value": 8})
    changed = env.get("/v1/watch", env.ana.token, headers={"If-None-Match": etag})
    assert (
        changed.status_code == 200 and changed.json()["flag"] == "REST" and changed.json()["max_hr"] is None
    )


def test_signed_links_refused_alike(env: Env) -> None:
    with session_scope(env.settings) as session:
        ana = session.get(Athlete, env.ana.id)
        good = report_link(ana, settings=env.settings, base=env.url)
    ok = local_http.get(good, timeout=10)
    assert ok.status_code == 200 and "legday_report" in ok.headers["set-cookie"]
    assert "no-referrer" in ok.headers["referrer-policy"] and ok.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in ok.headers["content-security-policy"]
    signed = good.rsplit("/", 1)[1]
    body, mac = signed.split(".")
    key = report_key(env.settings)
    other_key = env.settings.model_copy(update={"report_secret": SecretStr("another-server")})
    bad = {
        "forged": f"{body}.{'A' * len(mac)}",
        "altered": f"{sign_link(env.bob.id, 'report', settings=env.settings).split('.')[0]}.{mac}",
        "expired": sign(key, "link", {"a": env.ana.id, "k": "r"}, ttl_s=-5),
        "other server": sign_link(env.ana.id, "report", settings=other_key),
        "no such athlete": sign_link(9999, "report", settings=env.settings),
        "unsubscribe used as report": "x" + signed,
        "garbage": "not-a-link",
    }
    answers = {}
    for name, value in bad.items():
        r = local_http.get(f"{env.url}/r/{value}", timeout=10)
        answers[name] = (r.status_code, re.sub(r"nonce(-|=\")[\w-]+", "nonce", r.text))
        assert "set-cookie" not in r.headers
    assert len(set(answers.values())) == 1, answers
    assert next(iter(answers.values()))[0] == 404


def test_health_metrics_openapi(env: Env) -> None:
    health = env.get("/healthz")
    assert health.status_code == 200 and health.json()["checks"]["database"] == "ok"
    env.get("/v1/watch", env.ana.token)
    metrics = env.get("/metrics").text
    assert 'legday_verdicts{flag="' in metrics
    assert (
        'legday_http_request_duration_seconds_count{method="GET",route="/v1/watch",status="2xx"}' in metrics
    )
    paths = env.get("/openapi.json").json()["paths"]
    assert {"/v1/verdicts/today", "/v1/verdicts/{day}", "/v1/verdicts", "/v1/watch", "/v1/soreness"} <= set(
        paths
    )


def test_health_is_503_when_the_database_is_down(settings: Settings) -> None:
    down = settings.model_copy(
        update={
            "database_url": "postgresql+psycopg://legday@127.0.0.1:9/nothing",
            "report_secret": SecretStr("s"),
        }
    )
    with serve(create_app(down)) as url:
        r = local_http.get(url + "/healthz", timeout=20)
    assert r.status_code == 503
    assert r.json()["status"] == "down" and r.json()["checks"]["database"].startswith("down")
    assert "127.0.0.1:9" not in r.text


def test_health_checks_redis_when_configured(settings: Settings) -> None:
    from sync.db.migrate import upgrade

    upgrade(settings)
    up = settings.model_copy(update={"redis_url": redis_db_url(9)})
    down = settings.model_copy(update={"redis_url": "redis://127.0.0.1:9/9"})
    with serve(create_app(up)) as url:
        assert local_http.get(url + "/healthz", timeout=10).json()["checks"]["redis"] == "ok"
    with serve(create_app(down)) as url:
        r = local_http.get(url + "/healthz", timeout=10)
    assert r.status_code == 503 and r.json()["checks"]["redis"].startswith("down")


def test_tomorrow_is_read_once_computed_never_by_the_get(env: Env) -> None:
    """A GET never computes (it used to store tomorrow's verdict): 404 until the after-sync
    policy has computed it, then the verdict that counts."""
    with session_scope(env.settings) as session:
        tomorrow = athlete_today(session.get(Athlete, env.ana.id)) + timedelta(days=1)
    assert env.get(f"/v1/verdicts/{tomorrow.isoformat()}", env.ana.token).status_code == 404
    with session_scope(env.settings) as session:
        assert (
            session.scalar(
                select(func.count()).select_from(VerdictRecord).where(VerdictRecord.date == tomorrow)
            )
            == 0
        )
        ana = session.get(Athlete, env.ana.id)
        for day in days_after_sync(session, ana.id, ana.timezone, new_data=True):
            compute_verdict(session, ana, day)
    r = env.get(f"/v1/verdicts/{tomorrow.isoformat()}", env.ana.token)
    assert r.status_code == 200 and r.json()["date"] == tomorrow.isoformat()
