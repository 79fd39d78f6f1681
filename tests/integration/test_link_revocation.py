"""`legday token revoke` ends every signed link issued before it (report, soreness, the page's
form), not only the API token; unsubscribe links survive by design (docs/report.md: an athlete
can always unsubscribe). Real uvicorn, SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import SecretStr
from sqlalchemy import select

from sync.config import Settings
from sync.db.models import Athlete, SorenessReport
from sync.db.session import session_scope
from sync.links.build import report_link, soreness_links, unsubscribe_link
from sync.verdicts.read import athlete_today
from sync.web.app import create_app
from testkit import local_http
from testkit.helpers import run_cli
from testkit.report_server import seed_athlete, serve


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _links(settings: Settings, athlete_id: int, url: str) -> dict[str, str]:
    with session_scope(settings) as session:
        athlete = session.get(Athlete, athlete_id)
        day = athlete_today(athlete)
        return {
            "report": report_link(athlete, settings=settings, base=url),
            "day": report_link(athlete, day=day - timedelta(days=1), settings=settings, base=url),
            "soreness": soreness_links(athlete, day, settings=settings, base=url)[5],
            "unsubscribe": unsubscribe_link(athlete, settings=settings, base=url),
        }


def _soreness(settings: Settings, athlete_id: int) -> list[int]:
    with session_scope(settings) as session:
        return list(
            session.scalars(select(SorenessReport.value).where(SorenessReport.athlete_id == athlete_id))
        )


def test_token_revoke_ends_every_link_issued_before_it(db_settings: Settings) -> None:
    settings = db_settings.model_copy(update={"report_secret": SecretStr("revocation-secret")})
    ana = seed_athlete(settings, "ana")
    bob = seed_athlete(settings, "bob", history=False)
    with serve(create_app(settings)) as url:
        old = _links(settings, ana.id, url)
        bobs = _links(settings, bob.id, url)
        with local_http.Client(timeout=20) as browser:
            for name in ("report", "day", "soreness", "unsubscribe"):
                assert browser.get(old[name]).status_code == 200, name
            csrf = _csrf(browser.get(old["soreness"]).text)  # a page left open before the revoke

            result = run_cli("token", "revoke", "--athlete", "ana")
            assert result.exit_code == 0

            for name in ("report", "day", "soreness"):
                r = browser.get(old[name])
                assert r.status_code == 404 and "not valid" in r.text, name
            form = browser.post(old["soreness"], data={"value": "5", "csrf": csrf})
            assert form.status_code == 404  # the open page's form is dead too
            api = local_http.get(
                url + "/v1/watch", headers={"Authorization": f"Bearer {ana.token}"}, timeout=20
            )
            assert api.status_code == 401
        assert _soreness(settings, ana.id) == []
        assert "links" in result.output  # the command says what it ended

        # Links issued after the revocation work, the form included.
        new = _links(settings, ana.id, url)
        with local_http.Client(timeout=20) as browser:
            page = browser.get(new["soreness"])
            assert page.status_code == 200
            done = browser.post(new["soreness"], data={"value": "5", "csrf": _csrf(page.text)})
            assert done.status_code == 303
        assert _soreness(settings, ana.id) == [5]

        # Unsubscribe links survive revocation: the athlete can always stop the email.
        with local_http.Client(timeout=20) as client:
            assert client.get(old["unsubscribe"]).status_code == 200
            assert client.post(old["unsubscribe"], data={"List-Unsubscribe": "One-Click"}).status_code == 200
        with session_scope(settings) as session:
            assert session.get(Athlete, ana.id).email_enabled is False

        # Another athlete's links are untouched.
        with local_http.Client(timeout=20) as browser:
            assert browser.get(bobs["report"]).status_code == 200


def test_revoking_twice_and_without_a_token_still_ends_links(db_settings: Settings) -> None:
    settings = db_settings.model_copy(update={"report_secret": SecretStr("revocation-secret")})
    ana = seed_athlete(settings, "ana")
    with serve(create_app(settings)) as url:
        first = _links(settings, ana.id, url)["report"]
        assert run_cli("token", "revoke", "--athlete", "ana").exit_code == 0
        second = _links(settings, ana.id, url)["report"]
        assert local_http.get(second, timeout=20).status_code == 200
        result = run_cli("token", "revoke", "--athlete", "ana")  # no token any more: links still end
        assert result.exit_code == 0
        assert local_http.get(first, timeout=20).status_code == 404
        assert local_http.get(second, timeout=20).status_code == 404
