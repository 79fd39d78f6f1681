"""What a mail client really receives: the headers as bytes on the wire, not re-parsed."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

import testkit.smtp_server as smtp_fixtures
from sync.config import Settings, get_settings
from sync.db.session import session_scope
from sync.morning_email import dispatch_due_emails
from testkit.factories import make_athlete
from testkit.smtp_server import SmtpServer

smtp_server = smtp_fixtures.smtp_server  # the fixture, for this module


def _unfolded_headers(raw: bytes) -> dict[str, str]:
    """The header block as a client's parser sees it before decoding: folds joined, nothing decoded."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    unfolded = re.sub(r"\r\n[ \t]+", " ", head)
    return dict(line.split(": ", 1) for line in unfolded.split("\r\n"))


def test_list_unsubscribe_is_plain_urls_on_the_wire(
    db_settings: Settings, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEGDAY_REPORT_SECRET", "a-test-secret-for-signed-links-0123456789")
    monkeypatch.setenv("LEGDAY_REPORT_BASE_URL", "https://legday.example.org")
    get_settings.cache_clear()
    settings = get_settings()
    with session_scope(settings) as s:
        make_athlete(s, "ana", email="ana@example.org", timezone="Europe/Berlin", max_hr=190, rest_hr=50)

    summary = dispatch_due_emails(datetime(2026, 3, 29, 9, 0, tzinfo=UTC), settings=settings)
    assert summary.sent == 1 and len(smtp_server.recorder.raw) == 1

    raw = smtp_server.recorder.raw[0]
    headers = _unfolded_headers(raw)
    value = headers["List-Unsubscribe"]
    assert "=?" not in value, value  # no RFC 2047 encoded-words: clients would see no URL
    urls = re.fullmatch(r"<([^>]+)>, <([^>]+)>", value)
    assert urls is not None, value
    by_scheme = {url.split(":", 1)[0]: url for url in urls.groups()}
    web, mailto = by_scheme["https"], by_scheme["mailto"]
    assert web.startswith("https://legday.example.org/u/")
    assert mailto == "mailto:legday@example.org?subject=unsubscribe"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))  # RFC 5322's hard line limit
