"""The calendar feed: each day's verdict as an all-day event, for any calendar app (RFC 5545).

`GET /c/<signed>/legday.ics`, the link from `legday report calendar` (sync.links.build.
calendar_link): the past 14 days and tomorrow, one event per day that has a verdict, titled with
the day's answer ("EASY: 30 min easy, HR under 142"). The day's verdict is the one its morning
message said (`sync.verdicts.announced`); a later change is in the event's description as
"updated at 09:12: REST (soreness 8/10)" and in its title. A forged, expired or revoked link
answers 404, as the report page does. A GET never writes. Built with the `icalendar` library.
"""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from sync.db.models import Athlete
from sync.links.build import is_current, verify_link
from sync.readiness.display import subject_reason, what_to_do
from sync.verdicts.announced import DayAnswer, answers_between
from sync.verdicts.read import athlete_today
from sync.web.context import app_context, in_session

PAST_DAYS = 14
CONTENT_TYPE = "text/calendar; charset=utf-8"

router = APIRouter(include_in_schema=False)


def event_title(answer: DayAnswer) -> str:
    """`EASY: 30 min easy, HR under 142`; `EASY, updated: REST: no run` after a change."""
    day = answer.day.verdict
    title = f"{day.flag}: {what_to_do(day)}"
    if answer.update is not None:
        title = f"{day.flag}, updated: {answer.update.flag}: {what_to_do(answer.update.verdict)}"
    return title


def build_calendar(athlete_id: int, timezone: str, answers: list[DayAnswer], name: str) -> bytes:
    """The ICS body: one all-day event per day answer."""
    from icalendar import Calendar, Event  # loaded by the first feed served, not by the server's start

    cal = Calendar()
    cal.add("prodid", "-//legday//readiness verdicts//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"legday: {name}")
    cal.add("x-wr-timezone", timezone)
    for answer in answers:
        day = answer.day
        event = Event()
        event.add("uid", f"legday-{athlete_id}-{day.date.isoformat()}@legday")
        event.add("dtstamp", answer.latest.computed_at)
        event.add("dtstart", day.date)
        event.add("dtend", day.date + timedelta(days=1))
        event.add("summary", event_title(answer))
        reason = subject_reason(day.verdict)
        lines = [f"Why: {reason}." if reason else "", answer.update_line(timezone) or ""]
        event.add("description", "\n".join(line for line in lines if line))
        event.add("transp", "TRANSPARENT")  # an answer, not a meeting: never "busy"
        cal.add_component(event)
    return cal.to_ical()


def calendar_answers(session: Session, athlete: Athlete, today: date) -> list[DayAnswer]:
    """The day answers from PAST_DAYS before `today` to tomorrow, oldest first."""
    return answers_between(session, athlete.id, today - timedelta(days=PAST_DAYS), today + timedelta(days=1))


@router.get("/c/{signed}/legday.ics")
async def calendar_feed(signed: str, request: Request) -> Response:
    """The athlete's calendar feed (404 for a link that is not valid or was revoked)."""
    settings = app_context(request).settings

    def work(session: Session) -> Response:
        claims = verify_link(signed, settings)
        athlete = session.get(Athlete, claims.athlete_id) if claims and claims.kind == "calendar" else None
        if athlete is None or claims is None or not is_current(claims, athlete):
            return Response("calendar link not valid\n", status_code=404, media_type="text/plain")
        answers = calendar_answers(session, athlete, athlete_today(athlete))
        body = build_calendar(athlete.id, athlete.timezone, answers, athlete.name)
        headers = {"Cache-Control": "private, max-age=900", "Referrer-Policy": "no-referrer"}
        return Response(body, media_type=CONTENT_TYPE, headers=headers)

    return await in_session(request, work)
