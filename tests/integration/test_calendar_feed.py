"""The calendar feed over real HTTP: an ICS that parses back with the same events, 404 once revoked.

The day's verdict stays the day's: after the morning message said EASY and a check-in made it
REST, the feed, the watch feed's `updated`, the API, the report page and the calendar all show
EASY with the update.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from sync.athletes import add_athlete
from sync.config import Settings, get_settings
from sync.db.models import Athlete
from sync.db.session import session_scope
from sync.links.build import calendar_link, report_link
from sync.verdicts.announced import announce
from sync.verdicts.compute import compute_verdict, record_soreness
from sync.verdicts.policy import record_soreness_and_recompute
from sync.verdicts.read import athlete_today, verdict_of
from sync.web.api_tokens import issue_token, revoke_token
from sync.web.app import create_app
from sync.web.calendar import PAST_DAYS, calendar_answers, event_title
from testkit import local_http
from testkit.report_server import serve


def test_the_feed_has_each_days_verdict_parses_back_and_stops_when_revoked(
    db_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEGDAY_REPORT_SECRET", "a-test-secret-for-signed-links-0123456789")
    get_settings.cache_clear()
    db_settings = get_settings()
    with session_scope(db_settings) as s:
        ana = add_athlete(s, "ana", email="ana@example.org", timezone="Europe/Berlin", max_hr=190, rest_hr=50)
        s.flush()
        today = athlete_today(ana)
        for k in range(-PAST_DAYS - 2, 2):  # two days too old for the feed, tomorrow included
            compute_verdict(s, ana, today + timedelta(days=k))
        record_soreness(s, ana, today, 5)  # this morning: sore, EASY, and the message said so
        compute_verdict(s, ana, today)
        s.flush()
        announce(s, ana.id, verdict_of(s, ana.id, today), datetime.now(UTC), via="push")
    with session_scope(db_settings) as s:  # then a check-in: can barely walk
        record_soreness_and_recompute(s, s.get(Athlete, ana.id), today, 8, db_settings)
    with session_scope(db_settings) as s:
        ana = s.get(Athlete, ana.id)
        expected = {
            (f"legday-{ana.id}-{a.day.date.isoformat()}@legday", a.day.date, event_title(a))
            for a in calendar_answers(s, ana, today)
        }
        feed = calendar_link(ana, settings=db_settings, base="http://x")
        token = issue_token(s, ana)
        page = report_link(ana, settings=db_settings, base="http://x")

    with serve(create_app(db_settings)) as url:
        path = feed.removeprefix("http://x")
        r = local_http.get(url + path, timeout=10)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
        cal = Calendar.from_ical(r.content)
        events = [c for c in cal.walk("VEVENT")]
        got = {(str(e["UID"]), e.decoded("DTSTART"), str(e["SUMMARY"])) for e in events}
        assert got == expected and len(events) == PAST_DAYS + 2  # the past 14 days, today, tomorrow
        assert {e.decoded("DTSTART") for e in events} == {
            today + timedelta(days=k) for k in range(-PAST_DAYS, 2)
        }
        assert all(e.decoded("DTEND") - e.decoded("DTSTART") == timedelta(days=1) for e in events)
        todays = next(e for e in events if e.decoded("DTSTART") == today)
        assert str(todays["SUMMARY"]).startswith("EASY, updated: REST")
        assert "updated at " in str(todays["DESCRIPTION"]) and "REST (soreness 8/10)" in str(
            todays["DESCRIPTION"]
        )
        tomorrow = next(e for e in events if e.decoded("DTSTART") == today + timedelta(days=1))
        assert str(tomorrow["SUMMARY"]).split(":")[0] in ("RUN", "EASY", "REST")

        watch = local_http.get(
            url + "/v1/watch", headers={"Authorization": f"Bearer {token}"}, timeout=10
        ).json()
        assert watch["flag"] == "EASY" and watch["max_minutes"] is not None
        updated = watch["updated"]
        assert updated.startswith("updated at ") and updated.endswith(": REST (soreness 8/10)")

        # The API: the day's verdict is the morning's, the change is `updated` and `latest`.
        auth = {"Authorization": f"Bearer {token}"}
        for route in ("/v1/verdicts/today", f"/v1/verdicts/{today.isoformat()}"):
            day = local_http.get(url + route, headers=auth, timeout=10).json()
            assert day["flag"] == "EASY" and day["updated"] == updated, route
            assert day["latest"]["flag"] == "REST" and day["latest"]["date"] == today.isoformat()
        # Another day has no morning message: the verdict that counts, no update.
        other = today - timedelta(days=3)
        past = local_http.get(url + f"/v1/verdicts/{other.isoformat()}", headers=auth, timeout=10).json()
        assert past["updated"] is None and past["latest"] is None

        # The report page: the morning's EASY, and the update said above what to do.
        html = local_http.get(url + page.removeprefix("http://x"), timeout=10).text
        assert 'data-flag="EASY"' in html and 'id="update" data-flag="REST"' in html
        assert "Updated at " in html and "REST (soreness 8/10)" in html

        # A report link is not a calendar link, an altered one is nobody's, a revoked one is dead.
        assert (
            local_http.get(url + page.removeprefix("http://x") + "/legday.ics", timeout=10).status_code == 404
        )
        assert local_http.get(url + path.replace("/c/", "/c/x"), timeout=10).status_code == 404
        with session_scope(db_settings) as s:
            revoke_token(s, s.get(Athlete, ana.id))
        assert local_http.get(url + path, timeout=10).status_code == 404
