"""Email links over real HTTP: soreness links that only preselect, a POST that confirms, the
unsubscribe page with RFC 8058 one-click; and the `legday token` / `legday report link` commands."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from sync.config import Settings
from sync.db.migrate import upgrade
from sync.db.models import Athlete, SorenessReport
from sync.db.session import session_scope
from sync.links.build import soreness_links, unsubscribe_headers
from sync.verdicts.read import athlete_today
from sync.web.api_tokens import hash_token
from sync.web.app import create_app
from testkit import local_http
from testkit.helpers import run_cli, serving
from testkit.report_server import Seeded, seed_athlete, serve


@pytest.fixture
def server(settings: Settings) -> Iterator[tuple[str, Settings, Seeded, Seeded]]:
    upgrade(settings)
    configured = settings.model_copy(update={"report_secret": SecretStr("links-secret")})
    ana, bob = seed_athlete(configured, "ana"), seed_athlete(configured, "bob")
    with serve(create_app(configured)) as url:
        yield url, configured, ana, bob


def _soreness_rows(settings: Settings, athlete_id: int) -> list[int]:
    with session_scope(settings) as session:
        return list(
            session.scalars(select(SorenessReport.value).where(SorenessReport.athlete_id == athlete_id))
        )


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def test_soreness_link_preselects_and_a_post_confirms_once(server: tuple) -> None:
    url, settings, ana, bob = server
    with session_scope(settings) as session:
        athlete = session.get(Athlete, ana.id)
        day = athlete_today(athlete)
        links = soreness_links(athlete, day, settings=settings, base=url)
    assert set(links) == {0, 3, 5, 8}
    with local_http.Client(timeout=10) as scanner:  # a mail scanner opens every link
        for link in links.values():
            assert scanner.get(link).status_code == 200
    assert _soreness_rows(settings, ana.id) == []

    with local_http.Client(timeout=10) as browser:
        page = browser.get(links[8])
        assert 'value="8" checked' in page.text and "Confirm soreness 8" in page.text
        form = {"value": "8", "csrf": _csrf(page.text)}
        done = browser.post(links[8], data=form, follow_redirects=True)
        assert done.status_code == 200 and 'data-flag="REST"' in done.text
        browser.post(links[8], data=form, follow_redirects=True)  # a double click changes nothing more
    assert _soreness_rows(settings, ana.id) == [8]

    # A post without the session cookie, with a stolen token, or to an altered link records nothing.
    other = links[3]
    assert local_http.post(other, data={"value": "3", "csrf": form["csrf"]}, timeout=10).status_code == 403
    altered = other[:-3] + ("AAA" if not other.endswith("AAA") else "BBB")
    with local_http.Client(timeout=10) as browser:
        csrf = _csrf(browser.get(other).text)
        assert browser.post(altered, data={"value": "3", "csrf": csrf}).status_code == 404
        assert browser.get(altered).status_code == 404
        # Ana's session cannot post to Bob's link.
        with session_scope(settings) as session:
            bob_link = soreness_links(session.get(Athlete, bob.id), day, settings=settings, base=url)[5]
        assert browser.post(bob_link, data={"value": "5", "csrf": csrf}).status_code == 403
    assert _soreness_rows(settings, ana.id) == [8]
    assert _soreness_rows(settings, bob.id) == []


def test_unsubscribe_get_asks_and_one_click_post_unsubscribes(server: tuple) -> None:
    url, settings, ana, _ = server
    with session_scope(settings) as session:
        headers = unsubscribe_headers(session.get(Athlete, ana.id), settings=settings)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = (
        headers["List-Unsubscribe"]
        .strip("<>")
        .replace(settings.report_base_url or "http://127.0.0.1:8000", url)
    )
    assert local_http.get(link, timeout=10).status_code == 200
    with session_scope(settings) as session:
        assert session.get(Athlete, ana.id).email_enabled is True
    # RFC 8058: the mail client POSTs this body, without cookies.
    r = local_http.post(
        link,
        content=b"List-Unsubscribe=One-Click",
        timeout=10,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200 and "unsubscribed" in r.text
    with session_scope(settings) as session:
        assert session.get(Athlete, ana.id).email_enabled is False
    assert local_http.post(link[:-2] + "xx", timeout=10).status_code == 404


def test_token_and_report_link_commands(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_cli("athlete", "add", "ana", "--timezone", "UTC").exit_code == 0
    issued = run_cli("token", "issue", "--athlete", "ana")
    assert issued.exit_code == 0
    token = issued.stdout.strip()
    assert issued.stdout == token + "\n" and token.startswith("ldy_")
    with session_scope(settings) as session:
        stored = session.scalar(select(Athlete.report_token_hash).where(Athlete.name == "ana"))
    assert stored == hash_token(token) and token not in stored
    assert run_cli("token", "revoke", "--athlete", "ana").exit_code == 0
    with session_scope(settings) as session:
        assert session.scalar(select(Athlete.report_token_hash).where(Athlete.name == "ana")) is None

    link = run_cli(
        "report", "link", "--athlete", "ana", "--days", "2", "--base-url", "https://legday.example.org/"
    )
    assert link.exit_code == 0
    assert re.fullmatch(r"https://legday\.example\.org/r/[\w-]+\.[\w-]+\n", link.stdout)
    default = run_cli("report", "link", "--athlete", "ana").stdout
    assert default.startswith("http://127.0.0.1:8000/r/")
    assert run_cli("report", "link", "--athlete", "nobody").exit_code != 0


def test_legday_serve_runs_the_embedded_default(settings: Settings, tmp_path: Path) -> None:
    """`legday serve` in a subprocess, on SQLite without Redis: health, a token, the watch feed."""
    assert run_cli("athlete", "add", "ana", "--timezone", "UTC").exit_code == 0
    token = run_cli("token", "issue", "--athlete", "ana").stdout.strip()
    assert run_cli("today", "--athlete", "ana").exit_code == 0  # the feed reads it, never computes
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "LEGDAY_DATA_DIR": str(settings.data_dir)}
    env.pop("LEGDAY_DATABASE_URL", None)
    env.pop("LEGDAY_REDIS_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", "from sync.cli import main; main()", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        if not serving(url + "/healthz", proc):  # a loaded machine starts uvicorn slowly
            proc.kill()  # first, so reading its output cannot wait on a live server
            errors = proc.communicate(timeout=10)[1]
            raise AssertionError(f"legday serve never answered: {errors!r}")
        health = local_http.get(url + "/healthz", timeout=10)
        assert health.json() == {"status": "ok", "checks": {"database": "ok", "redis": "not configured"}}
        watch = local_http.get(url + "/v1/watch", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert watch.status_code == 200 and watch.json()["flag"] in {"RUN", "EASY", "REST"}
    finally:
        proc.terminate()
        proc.wait(10)
