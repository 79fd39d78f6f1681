"""The report page in a real browser: Playwright driving Debian's chromium (no Playwright builds).

Open the report, see the verdict and a chart, submit soreness 8, see the verdict become REST;
a screenshot is kept in the test's tmp dir.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from sync.config import Settings
from sync.db.migrate import upgrade
from sync.db.models import Athlete
from sync.db.session import session_scope
from sync.links.build import report_link
from sync.web.app import create_app
from testkit.report_server import seed_athlete, serve

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    """Debian's chromium, installed with apt-get when absent."""
    found = shutil.which("chromium")
    if found is None:
        # Several pytest-xdist workers may get here at once: the lock timeout makes the later
        # ones wait for the first install instead of failing on dpkg's lock.
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "-o", "DPkg::Lock::Timeout=900", "chromium"],
            check=False,
            capture_output=True,
        )
        found = shutil.which("chromium")
    if found is None:
        pytest.fail("chromium is not installed and `apt-get install -y chromium` did not install it")
    return found


@pytest.fixture
def browser_page() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
            yield context.new_page()
        finally:
            browser.close()


def test_report_page_soreness_8_makes_it_rest(settings: Settings, browser_page, tmp_path: Path) -> None:  # noqa: ANN001
    upgrade(settings)
    configured = settings.model_copy(update={"report_secret": SecretStr("browser-secret")})
    ana = seed_athlete(configured, "ana")
    page = browser_page
    with serve(create_app(configured)) as url:
        with session_scope(configured) as session:
            link = report_link(session.get(Athlete, ana.id), settings=configured, base=url)
        response = page.goto(link)
        assert response is not None and response.status == 200
        flag = page.locator("#flag")
        assert flag.inner_text() in {"RUN", "EASY"}
        assert page.locator("svg.chart").count() == 4
        assert page.locator("svg.chart rect").count() > 0
        assert page.locator("svg.chart circle").count() > 0  # HRV points
        page.screenshot(path=str(tmp_path / "report-before.png"), full_page=True)

        page.locator('input[name="value"][value="8"]').check()
        page.locator("#confirm").click()
        page.wait_for_load_state()
        assert page.locator("#flag").inner_text() == "REST"
        assert "8/10" in page.locator("#reasons").inner_text()
        assert "S1:" in page.locator("#sources").inner_text()
        assert "recorded" in page.locator("[role=status]").inner_text()
        shot = tmp_path / "report-rest.png"
        page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 1000


def test_a_soreness_link_on_a_phone_asks_to_confirm_first(settings: Settings, browser_page) -> None:  # noqa: ANN001
    """Tapping "8" in the email: the first screen of a phone says what to do and confirms it."""
    from datetime import date

    from sync.links.build import soreness_links

    upgrade(settings)
    configured = settings.model_copy(update={"report_secret": SecretStr("browser-secret")})
    ana = seed_athlete(configured, "ana")
    page = browser_page
    with serve(create_app(configured)) as url:
        with session_scope(configured) as session:
            links = soreness_links(session.get(Athlete, ana.id), date.today(), settings=configured, base=url)
        link = links[8]
        response = page.goto(link)
        assert response is not None and response.status == 200
        confirm = page.locator("#confirm")
        assert confirm.count() == 1 and confirm.inner_text() == "Confirm soreness 8"
        box = confirm.bounding_box()
        screen = page.viewport_size["height"]
        assert box is not None and box["y"] + box["height"] <= screen, box  # on the first screen
        assert "You chose 8/10" in page.locator("#confirm-first").inner_text()
        confirm.click()
        page.wait_for_load_state()
        assert page.locator("#flag").inner_text() == "REST"
        assert "recorded" in page.locator("[role=status]").inner_text()
