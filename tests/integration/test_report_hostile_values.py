"""Designed answers, never a 500, for what the soreness check-in can be sent: Redis down (503 with
Retry-After), non-finite JSON numbers and non-ASCII digits (422). Real uvicorn, a real
redis-server process, SQLite and PostgreSQL."""

from __future__ import annotations

import re
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import redis
from pydantic import SecretStr
from sqlalchemy import select

from sync.config import Settings
from sync.db.models import Athlete, SorenessReport
from sync.db.session import session_scope
from sync.links.build import report_link
from sync.web.app import create_app
from testkit import local_http
from testkit.helpers import wait_for
from testkit.report_server import Seeded, seed_athlete, serve


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    settings: Settings
    ana: Seeded
    link: str
    redis: subprocess.Popen[bytes]


@pytest.fixture
def server(db_settings: Settings) -> Iterator[Server]:
    """The report server with its own redis-server process (the test stops it)."""
    port = _free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    assert wait_for(lambda: _pings(client), 20)
    settings = db_settings.model_copy(
        update={
            "report_secret": SecretStr("hostile-values-secret"),
            "redis_url": f"redis://127.0.0.1:{port}/0",
        }
    )
    ana = seed_athlete(settings, "ana")
    try:
        with serve(create_app(settings)) as url:
            with session_scope(settings) as session:
                link = report_link(session.get(Athlete, ana.id), settings=settings, base=url)
            yield Server(url, settings, ana, link, proc)
    finally:
        proc.kill()
        proc.wait(10)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _soreness_rows(settings: Settings, athlete_id: int) -> list[int]:
    with session_scope(settings) as session:
        return list(
            session.scalars(select(SorenessReport.value).where(SorenessReport.athlete_id == athlete_id))
        )


def _api_post(server: Server, body: bytes) -> httpx.Response:
    return local_http.post(
        server.url + "/v1/soreness",
        content=body,
        headers={"Authorization": f"Bearer {server.ana.token}", "Content-Type": "application/json"},
        timeout=20,
    )


def test_soreness_posts_answer_503_with_retry_after_while_redis_is_down(server: Server) -> None:
    assert _api_post(server, b'{"value": 2}').status_code == 200  # Redis up: recorded
    server.redis.kill()
    server.redis.wait(10)

    r = _api_post(server, b'{"value": 7}')
    assert r.status_code == 503, r.text
    assert int(r.headers["Retry-After"]) > 0 and "try again" in r.json()["detail"]

    with local_http.Client(timeout=20) as browser:  # the report page's form too
        csrf = _csrf(browser.get(server.link).text)
        page = browser.post(server.link, data={"value": "7", "csrf": csrf})
    assert page.status_code == 503 and int(page.headers["Retry-After"]) > 0
    assert "try again" in page.text
    assert _soreness_rows(server.settings, server.ana.id) == [2]  # nothing recorded while down


@pytest.mark.parametrize(
    "body",
    [
        b'{"value": 1e309}',
        b'{"value": -1e309}',
        b'{"value": NaN}',
        b'{"value": Infinity}',
        b'{"value": -Infinity}',
        b'{"value": 5, "date": NaN}',
        b'{"value": 5, "extra": Infinity}',
        '{"value": "\u0663"}'.encode(),  # ARABIC-INDIC DIGIT THREE
        '{"value": "\u00b2"}'.encode(),  # SUPERSCRIPT TWO
    ],
)
def test_non_finite_numbers_and_non_ascii_digits_in_json_are_422(server: Server, body: bytes) -> None:
    r = _api_post(server, body)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]  # a strict JSON document (no NaN in it)
    assert isinstance(detail, list) and detail and {"loc", "msg"} <= set(detail[0])
    assert _soreness_rows(server.settings, server.ana.id) == []


@pytest.mark.parametrize(
    "value", ["\u00b2", "\u0663", "\uff13", "1\u00b2", "\u0661\u0660", " 3", "+3", "3.0", "1e1", ""]
)
def test_form_values_other_than_ascii_digits_0_to_10_are_422(server: Server, value: str) -> None:
    with local_http.Client(timeout=20) as browser:
        csrf = _csrf(browser.get(server.link).text)
        r = browser.post(server.link, data={"value": value, "csrf": csrf})
        assert r.status_code == 422, (value, r.status_code)
        assert "Choose a soreness value from 0 to 10" in r.text
        assert _soreness_rows(server.settings, server.ana.id) == []
        ok = browser.post(server.link, data={"value": "3", "csrf": csrf})  # the control
        assert ok.status_code == 303
    assert _soreness_rows(server.settings, server.ana.id) == [3]
