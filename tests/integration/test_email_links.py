"""Links from a real sent email (SMTP sink) against the real report server (uvicorn).

A mail scanner opening every link records nothing; the athlete's confirm records soreness
once and shows the updated verdict; an expired or altered link is refused.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

import testkit.smtp_server as smtp_fixtures
from sync.config import Settings, get_settings
from sync.db.migrate import upgrade
from sync.db.models import SorenessReport
from sync.db.session import session_scope
from sync.links.build import KINDS, LINK_PURPOSE
from sync.links.secret import report_key
from sync.links.signing import sign
from sync.morning_email import dispatch_due_emails
from sync.web.app import create_app
from testkit import local_http
from testkit.factories import make_athlete
from testkit.report_server import serve
from testkit.smtp_server import SmtpServer

smtp_server = smtp_fixtures.smtp_server  # the fixture, for this module

BERLIN = ZoneInfo("Europe/Berlin")


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _soreness(settings: Settings) -> list[int]:
    with session_scope(settings) as session:
        return list(session.scalars(select(SorenessReport.value)))


def test_soreness_link_from_a_sent_email(
    settings: Settings, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEGDAY_REPORT_SECRET", "email-link-secret-0123456789abcdef")
    get_settings.cache_clear()
    upgrade(get_settings())
    with serve(create_app(get_settings())) as base:
        monkeypatch.setenv("LEGDAY_REPORT_BASE_URL", base)
        get_settings.cache_clear()
        configured = get_settings()
        with session_scope(configured) as session:
            athlete_id = make_athlete(
                session, "ana", email="ana@example.org", timezone="Europe/Berlin", max_hr=188, rest_hr=48
            ).id
        morning = datetime.combine(datetime.now(BERLIN).date(), time(7, 0), BERLIN)
        assert dispatch_due_emails(morning, settings=configured).sent == 1

        (mail,) = smtp_server.recorder.to("ana@example.org")
        text = mail.get_body(("plain",)).get_content()
        links = dict(re.findall(rf"^\s+(\d+) \([a-z ]+\): ({re.escape(base)}/r/\S+)\s*$", text, re.M))
        assert set(links) == {"0", "3", "5", "8"}
        assert "  8 (can barely walk): " in text  # a labelled scale
        assert "0 = not sore, 10 = can barely walk" in text
        assert f"{base}/r/" in mail.get_body(("html",)).get_content()

        with local_http.Client(timeout=10) as scanner:  # opens every link, confirms nothing
            assert all(scanner.get(url).status_code == 200 for url in links.values())
        assert _soreness(configured) == []

        with local_http.Client(timeout=10) as browser:
            page = browser.get(links["8"])
            assert "Confirm soreness 8" in page.text
            form = {"value": "8", "csrf": _csrf(page.text)}
            done = browser.post(links["8"], data=form, follow_redirects=True)
            assert done.status_code == 200 and 'data-flag="REST"' in done.text
            browser.post(links["8"], data=form, follow_redirects=True)  # a second click
        assert _soreness(configured) == [8]

        signed = links["5"].rsplit("/", 1)[1]
        altered = signed[:-2] + ("xx" if not signed.endswith("xx") else "yy")
        expired = sign(report_key(configured), LINK_PURPOSE, {"a": athlete_id, "k": KINDS["soreness"]}, -60)
        with local_http.Client(timeout=10) as browser:
            for bad in (altered, expired):
                assert browser.get(f"{base}/r/{bad}").status_code == 404
                assert browser.post(f"{base}/r/{bad}", data={"value": "5", "csrf": "x"}).status_code == 404
        assert _soreness(configured) == [8]
    get_settings.cache_clear()
