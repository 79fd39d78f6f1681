"""The invite page over real HTTP (uvicorn, the sandbox's Personal API, SQLite and PostgreSQL,
Redis for the queued first sync): single use under concurrency, CSRF, the rate limit, and the
key and the invite never in a log line or a task message."""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import redis
import uvicorn
from pydantic import SecretStr
from sqlalchemy import select

from sync.config import Settings
from sync.db.models import Athlete, GarminAccount, Invite
from sync.db.session import session_scope
from sync.onboarding.invites import issue_invite
from sync.sandbox import Sandbox
from sync.web.app import create_app
from testkit import local_http
from testkit.factories import make_athlete
from testkit.garmin_fixtures import garmin_settings_for
from testkit.helpers import redis_db_url
from testkit.report_server import serve

REDIS_DB = 11


def _configured(db_settings: Settings, sandbox: Sandbox, **extra: object) -> Settings:
    base = db_settings.model_copy(update={"report_secret": SecretStr("onboarding-secret"), **extra})
    return garmin_settings_for(base, sandbox)


def _invite(settings: Settings, url: str, name: str = "ana") -> str:
    with session_scope(settings) as session:
        return issue_invite(session, name, settings, base=url).url


def _open(client: httpx.Client, link: str) -> str:
    """GET the page (sets the session cookie); the form's CSRF token."""
    page = client.get(link)
    assert page.status_code == 200
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def _form(csrf: str, key: str, **extra: str) -> dict[str, str]:
    return {
        "csrf": csrf,
        "key": key,
        "expires": "90",
        "email": "ana@example.org",
        "timezone": "UTC",
        "send_time": "06:30",
        **extra,
    }


def test_two_concurrent_posts_connect_once(db_settings: Settings, sandbox: Sandbox) -> None:
    settings = _configured(db_settings, sandbox)
    key = sandbox.issue_personal_api_key(expires_in_days=90)
    with serve(create_app(settings)) as url:
        link = _invite(settings, url)
        clients = [local_http.Client(timeout=30) for _ in range(2)]
        tokens = [_open(c, link) for c in clients]
        barrier = threading.Barrier(2)
        statuses: list[int] = []

        def post(i: int) -> None:
            barrier.wait()
            statuses.append(clients[i].post(link, data=_form(tokens[i], key)).status_code)

        threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(statuses) == [200, 410]
        assert clients[0].post(link, data=_form(tokens[0], key)).status_code == 410  # and later
        assert clients[0].get(link).status_code == 410
    with session_scope(settings) as session:
        assert len(session.scalars(select(GarminAccount)).all()) == 1
        assert len(session.scalars(select(Invite)).all()) == 1


def test_csrf_and_rate_limit_store_nothing(db_settings: Settings, sandbox: Sandbox) -> None:
    settings = _configured(db_settings, sandbox)
    key = sandbox.issue_personal_api_key(expires_in_days=30)
    with serve(create_app(settings)) as url:
        link = _invite(settings, url)
        with local_http.Client(timeout=30) as stranger:  # no session cookie, no token: another site's form
            refused = stranger.post(link, data=_form("forged", key))
            assert refused.status_code == 403 and "expired" in refused.text
        with local_http.Client(timeout=30) as client:
            csrf = _open(client, link)
            wrong = [client.post(link, data=_form(csrf, "GCDC_wrong-key")) for _ in range(4)]
            assert [r.status_code for r in wrong] == [422] * 4
            assert "Nothing was stored" in wrong[0].text and "GCDC_wrong-key" not in wrong[0].text
            limited = client.post(link, data=_form(csrf, key))  # the sixth post of this minute
            assert limited.status_code == 429 and "wait a minute" in limited.text
    with session_scope(settings) as session:
        assert session.scalars(select(GarminAccount)).all() == []
        assert session.scalars(select(Invite)).all() == []


@contextmanager
def _serve_with_access_log(app) -> Iterator[str]:  # noqa: ANN001
    """uvicorn with its access log on (as `legday serve` at INFO), records reaching caplog."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="info", log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive()
        threading.Event().wait(0.02)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)


def test_key_and_invite_never_logged_and_first_sync_is_a_task_without_the_key(
    db_settings: Settings, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    queue = redis.Redis.from_url(redis_db_url(REDIS_DB))
    queue.flushdb()
    settings = _configured(db_settings, sandbox, redis_url=redis_db_url(REDIS_DB))
    key = sandbox.issue_personal_api_key(expires_in_days=180)
    caplog.set_level(logging.DEBUG)
    with _serve_with_access_log(create_app(settings)) as url:
        link = _invite(settings, url)
        with local_http.Client(timeout=30) as client:
            csrf = _open(client, link)
            assert client.post(link, data=_form(csrf, "GCDC_wrong-key")).status_code == 422
            done = client.post(link, data=_form(csrf, key))
            assert done.status_code == 200 and "first sync is queued" in done.text
    signed = link.rsplit("/", 1)[1]
    # Every log line of the server side (the test's own HTTP client logs its URLs: not ours).
    logged = "\n".join(
        f"{r.name} {r.getMessage()}" for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))
    )
    assert "/join/<redacted>" in logged  # the access log saw the requests
    for secret in (key, signed, "GCDC_wrong-key"):
        assert secret not in logged
    with session_scope(settings) as session:
        account = session.scalar(select(GarminAccount))
        athlete = session.scalar(select(Athlete))
        assert account is not None and athlete is not None
        assert key.encode() not in account.tokens_encrypted
    (raw,) = queue.lrange(settings.sync_queue, 0, -1)
    assert key.encode() not in raw and signed.encode() not in raw
    message = json.loads(raw)
    assert message["headers"]["task"] == "worker.tasks.sync_account"
    assert json.loads(base64.b64decode(message["body"]))[0] == [account.id, True]
    queue.flushdb()


def test_the_report_page_warns_before_the_key_ends_and_links_to_a_working_invite(
    db_settings: Settings, sandbox: Sandbox
) -> None:
    from datetime import UTC, datetime, timedelta

    from sync.garmin_sync.accounts import connect_personal_api
    from sync.links.build import report_link

    settings = _configured(db_settings, sandbox)
    with serve(create_app(settings)) as url:
        with session_scope(settings) as session:
            ana = make_athlete(session, "ana")
            key = sandbox.issue_personal_api_key(expires_in_days=30)
            account = connect_personal_api(session, ana, key, 30, settings)
            page_url = report_link(ana, settings=settings, base=url)
        with local_http.Client(timeout=30) as client:
            assert 'id="reconnect"' not in client.get(page_url).text  # 30 days left: no warning yet
            with session_scope(settings) as session:
                stored = session.get(GarminAccount, account.id)
                assert stored is not None
                stored.credential_ends_at = datetime.now(UTC) + timedelta(days=7, seconds=30)
            page = client.get(page_url)
            assert page.status_code == 200 and 'id="reconnect"' in page.text
            assert "Personal API key ends in 7 days" in page.text
            found = re.search(r'href="([^"]+)" id="reconnect-link"', page.text)
            assert found is not None and "/join/" in found.group(1)
            invite = client.get(found.group(1).replace("&amp;", "&"))
            assert invite.status_code == 200 and 'name="key"' in invite.text


def test_an_athlete_whose_tokens_died_reconnects_from_an_invite(
    db_settings: Settings, sandbox: Sandbox
) -> None:
    """The renewal path the warnings link to: a garth athlete in needs_reauth pastes a key."""
    from sync.garmin_sync.accounts import add_tokens
    from testkit.helpers import wait_for

    settings = _configured(db_settings, sandbox)
    with session_scope(settings) as session:
        ana = make_athlete(session, "ana", email="ana@example.org")
        add_tokens(session, ana, sandbox.issue_garth_tokens(), settings).status = "needs_reauth"
    key = sandbox.issue_personal_api_key(expires_in_days=365)
    with serve(create_app(settings)) as url:
        link = _invite(settings, url)
        with local_http.Client(timeout=30) as client:
            csrf = _open(client, link)
            done = client.post(link, data=_form(csrf, key, expires="365"))
            assert done.status_code == 200 and "first sync is running" in done.text

        def synced() -> bool:
            with session_scope(settings) as session:
                account = session.scalar(select(GarminAccount))
                return account is not None and account.last_sync_at is not None

        assert wait_for(synced, 60)
    with session_scope(settings) as session:
        (account,) = session.scalars(select(GarminAccount)).all()
        assert (account.token_kind, account.status) == ("personal_api", "ok")


def test_legday_athlete_invite_prints_one_working_link(settings: Settings) -> None:
    from sync.db.migrate import upgrade
    from sync.onboarding.invites import verify_invite
    from testkit.helpers import run_cli

    upgrade(settings)
    result = run_cli("athlete", "invite", "bo", "--days", "3", "--base-url", "https://legday.example.org")
    assert result.exit_code == 0, result.output
    (url,) = [line for line in result.stdout.splitlines() if line.startswith("https://")]
    assert url.startswith("https://legday.example.org/join/")
    claims = verify_invite(url.rsplit("/", 1)[1], settings)
    assert claims is not None
    with session_scope(settings) as session:
        bo = session.scalar(select(Athlete).where(Athlete.name == "bo"))
        assert bo is not None and claims.athlete_id == bo.id  # added for the invite
    assert timedelta_days(claims.expires_at) in (2, 3)
    assert run_cli("athlete", "invite", "bo", "--days", "61").exit_code == 2


def timedelta_days(moment) -> int:  # noqa: ANN001 - an aware datetime
    from datetime import UTC, datetime

    return (moment - datetime.now(UTC)).days


def test_without_its_rate_limiter_the_page_refuses_with_503_and_stores_nothing(
    settings: Settings, sandbox: Sandbox
) -> None:
    import socket

    from sync.db.migrate import upgrade

    upgrade(settings)
    with socket.socket() as probe:  # a port nobody listens on: Redis is down
        probe.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"
    configured = _configured(settings, sandbox, redis_url=dead)
    key = sandbox.issue_personal_api_key()
    with serve(create_app(configured)) as url:
        link = _invite(configured, url)
        with local_http.Client(timeout=30) as client:
            csrf = _open(client, link)
            refused = client.post(link, data=_form(csrf, key))
    assert refused.status_code == 503 and refused.headers["retry-after"] == "60"
    assert "nothing was stored" in refused.text
    with session_scope(configured) as session:
        assert session.scalars(select(GarminAccount)).all() == []


def test_with_redis_a_real_worker_runs_the_first_sync(
    settings: Settings, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The task the page sends by name is the worker's own: a real Celery worker runs the sync
    and the verdicts after it."""
    from cryptography.fernet import Fernet

    from sync.config import get_settings
    from sync.db.migrate import upgrade
    from sync.db.models import SyncRun, VerdictRecord
    from testkit.celery_worker import in_process_worker
    from testkit.helpers import wait_for

    upgrade(settings)
    for name, value in {  # what the worker's own settings read
        "LEGDAY_GARMIN_BASE_URL": sandbox.url,
        "LEGDAY_GARMIN_MIN_INTERVAL_S": "0",
        "LEGDAY_GARMIN_INITIAL_DAYS": "14",
        "LEGDAY_SECRET_KEY": Fernet.generate_key().decode(),
        "LEGDAY_REPORT_SECRET": "onboarding-secret",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    broker = redis_db_url(REDIS_DB + 1)
    redis.Redis.from_url(broker).flushdb()
    key = sandbox.issue_personal_api_key()
    with in_process_worker(broker) as queue:
        configured = get_settings().model_copy(update={"redis_url": broker, "sync_queue": queue})
        with serve(create_app(configured)) as url:
            link = _invite(configured, url)
            with local_http.Client(timeout=30) as client:
                done = client.post(link, data=_form(_open(client, link), key))
            assert done.status_code == 200 and "first sync is queued" in done.text

            def finished() -> bool:
                with session_scope(configured) as session:
                    ok = session.scalars(select(SyncRun.status)).all()
                    verdicts = session.scalars(select(VerdictRecord.id)).all()
                return "ok" in ok and len(verdicts) >= 2

            assert wait_for(finished, 90)
    redis.Redis.from_url(broker).flushdb()
