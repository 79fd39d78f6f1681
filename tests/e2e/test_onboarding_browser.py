"""Self-service onboarding in a real browser (Debian's chromium, JavaScript off).

An invite link -> the steps and the form -> a wrong key (a clear line, nothing stored) -> the
right key, email, time zone and send time -> connected, first sync done, verdicts stored; the
link then refuses a second use, and an expired link never shows the form. The Personal API
is the sandbox's, over real HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from sync.config import Settings
from sync.db.migrate import upgrade
from sync.db.models import Athlete, GarminAccount, Invite, SyncRun, VerdictRecord
from sync.db.session import session_scope
from sync.onboarding.invites import JOIN_PREFIX, issue_invite, sign_invite
from sync.sandbox import Sandbox
from sync.web.app import create_app
from testkit.garmin_fixtures import garmin_settings_for
from testkit.helpers import wait_for
from testkit.report_server import serve
from tests.e2e.test_report_browser import CHROMIUM_ARGS, chromium_path


@pytest.fixture
def page() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
            yield context.new_page()
        finally:
            browser.close()


def _configured(settings: Settings, sandbox: Sandbox) -> Settings:
    upgrade(settings)
    base = settings.model_copy(update={"report_secret": SecretStr("onboarding-secret")})
    return garmin_settings_for(base, sandbox)


def _synced(settings: Settings, athlete_id: int) -> bool:
    with session_scope(settings) as session:
        runs = session.scalars(select(SyncRun.status).where(SyncRun.athlete_id == athlete_id)).all()
        verdicts = session.scalars(
            select(VerdictRecord.id).where(VerdictRecord.athlete_id == athlete_id)
        ).all()
    return "ok" in runs and len(verdicts) >= 2


def test_invite_link_to_first_sync_in_the_browser(
    settings: Settings,
    sandbox: Sandbox,
    page,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    configured = _configured(settings, sandbox)
    key = sandbox.issue_personal_api_key(expires_in_days=90)
    with serve(create_app(configured)) as url:
        with session_scope(configured) as session:
            invite = issue_invite(session, "ana", configured, base=url)
            ana = session.scalar(select(Athlete).where(Athlete.name == "ana"))
            assert ana is not None
            ana_id = ana.id
        started = time.monotonic()
        response = page.goto(invite.url)
        assert response is not None and response.status == 200
        assert "Personal API Token" in page.locator("#steps").inner_text()
        assert "30, 90, 180 or 365 days" in page.locator("#steps").inner_text()
        page.screenshot(path=str(tmp_path / "onboarding-form.png"), full_page=True)

        # A wrong key: one clear line on the page, nothing stored, the invite still usable.
        page.locator("#key").fill("GCDC_not-a-real-key")
        page.locator("#expires-90").check()
        page.locator("#email").fill("ana@example.org")
        page.locator("#connect").click()
        page.wait_for_load_state()
        error = page.locator("#error").inner_text()
        assert "Nothing was stored" in error and "GCDC_not-a-real-key" not in page.content()
        with session_scope(configured) as session:
            assert session.scalars(select(GarminAccount)).all() == []
            assert session.scalars(select(Invite)).all() == []

        # The right key, with the athlete's own settings.
        page.locator("#key").fill(key)
        page.locator("#expires-90").check()
        page.locator("#email").fill("ana@example.org")
        page.locator("#timezone").select_option("Europe/Berlin")
        page.locator("#send-time").fill("07:15")
        csrf = page.locator('input[name="csrf"]').get_attribute("value")
        page.locator("#connect").click()
        page.wait_for_load_state()
        assert "connected" in page.locator("#connected").inner_text()
        connected_s = time.monotonic() - started
        assert key not in page.content()
        page.screenshot(path=str(tmp_path / "onboarding-connected.png"), full_page=True)
        assert wait_for(lambda: _synced(configured, ana_id), 60)
        synced_s = time.monotonic() - started
        print(
            f"\nonboarding: connected in {connected_s:.1f} s, first sync and verdicts after {synced_s:.1f} s"
        )

        with session_scope(configured) as session:
            account = session.scalar(select(GarminAccount))
            athlete = session.get(Athlete, ana_id)
            assert account is not None and athlete is not None
            assert account.token_kind == "personal_api" and account.status == "ok"
            assert account.credential_ends_at is not None
            assert abs(account.credential_ends_at - (datetime.now(UTC) + timedelta(days=90))) < timedelta(
                hours=1
            )
            assert (athlete.email, athlete.timezone, athlete.send_time) == (
                "ana@example.org",
                "Europe/Berlin",
                clock_time(7, 15),
            )
            assert len(session.scalars(select(Invite)).all()) == 1

        # The report page the success page links to works.
        report = page.locator("#report-link").get_attribute("href")
        assert report is not None and page.goto(report).status == 200  # type: ignore[union-attr]

        # Used: the link shows no form any more, and a replayed post stores nothing.
        again = page.goto(invite.url)
        assert again is not None and again.status == 410
        assert page.locator("#key").count() == 0
        form = {"csrf": csrf or "", "key": key, "expires": "90", "timezone": "UTC", "send_time": "06:00"}
        replay = page.request.post(invite.url, form=form)  # the browser's own cookies
        assert replay.status == 410
        with session_scope(configured) as session:
            assert len(session.scalars(select(Invite)).all()) == 1
            assert session.get(Athlete, ana_id).timezone == "Europe/Berlin"  # type: ignore[union-attr]

        # Expired: a link signed eight days ago with a 7-day life never shows the form.
        old = sign_invite(ana_id, configured, days=7, now=time.time() - 8 * 86400)
        expired = page.goto(f"{url}{JOIN_PREFIX}{old}")
        assert expired is not None and expired.status == 404
        assert "expired" in page.content() and page.locator("#key").count() == 0
