"""The HTML report at /r/{signed} and the unsubscribe page at /u/{signed}.

A GET never changes data (mail scanners open links; tests/integration/test_get_never_writes.py
checks every GET route): the page reads the verdict that counts (`sync.verdicts.read`) and never
computes one; soreness links only preselect a value, and the athlete confirms with a POST, which
goes through the one check-in call (`sync.verdicts.policy.record_soreness_and_recompute`).
Works without JavaScript.
"""

from __future__ import annotations

import re
import secrets
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.db.models import Athlete, SorenessReport
from sync.links.build import LinkClaims, is_current, verify_link
from sync.onboarding.reminder import reconnect_notice
from sync.readiness.display import flag_colour, flag_headline
from sync.readiness.sources import sources_for
from sync.verdicts.announced import day_answer
from sync.verdicts.policy import record_soreness_and_recompute
from sync.verdicts.read import athlete_today
from sync.web.charts import band_chart, bar_chart
from sync.web.context import AppContext, app_context, in_session
from sync.web.cookie_session import csrf_ok, csrf_token, new_nonce, read_session, set_session
from sync.web.ratelimit import UNAVAILABLE_RETRY_S, LimiterUnavailable
from sync.web.series import recent_series
from sync.workouts.plan import push_impossible_line, watch_line

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
INVALID_LINK = "This link is not valid or has expired. Open the newest email, or ask for a new link."
CHART_DAYS = 14
SORENESS_FORM_VALUE = re.compile(r"[0-9]{1,2}")

router = APIRouter(include_in_schema=False)


def _csp(nonce: str) -> str:
    return (
        f"default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


def _html(template: str, status: int = 200, **values: Any) -> HTMLResponse:
    nonce = secrets.token_urlsafe(12)
    body = TEMPLATES.get_template(template).render(nonce=nonce, **values)
    return HTMLResponse(
        body,
        status_code=status,
        headers={"Content-Security-Policy": _csp(nonce), "Cache-Control": "no-store"},
    )


def invalid_link() -> HTMLResponse:
    """The one answer to a forged, altered, expired or unknown link."""
    return _html("message.html.j2", 404, title="Link not valid", message=INVALID_LINK)


def _athlete(
    session: Session, ctx: AppContext, signed: str, kinds: tuple[str, ...]
) -> tuple[Athlete, LinkClaims] | None:
    claims = verify_link(signed, ctx.settings)
    if claims is None or claims.kind not in kinds:
        return None
    athlete = session.get(Athlete, claims.athlete_id)
    if athlete is None or not is_current(claims, athlete):  # revoked: the same 404 as a forgery
        return None
    return athlete, claims


async def _form(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body (its size is capped by the middleware)."""
    raw = await request.body()
    try:
        fields = parse_qs(raw.decode("utf-8"), max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {k: v[-1] for k, v in fields.items()}


def _render_report(
    request: Request,
    session: Session,
    ctx: AppContext,
    athlete: Athlete,
    claims: LinkClaims,
    signed: str,
    *,
    status: int = 200,
    message: str | None = None,
    error: str | None = None,
    nonce: str | None = None,
) -> HTMLResponse:
    """The report page of `claims.day` (default the athlete's today)."""
    day: date = claims.day or athlete_today(athlete)
    # The day's verdict is the one its morning message said; a later change shows as its update.
    answer = day_answer(session, athlete.id, day)
    verdict = answer.day.verdict if answer is not None else None
    update = answer.update.verdict if answer is not None and answer.update is not None else None
    stored = session.scalar(
        select(SorenessReport.value).where(
            SorenessReport.athlete_id == athlete.id, SorenessReport.date == day
        )
    )
    chosen = claims.value if claims.value is not None else stored
    series = recent_series(session, athlete, day, CHART_DAYS)
    days = [p.day for p in series.points]
    charts = [
        bar_chart("Leg sets per day", days, [p.leg_sets for p in series.points], "#6a4c93"),
        bar_chart("Run load (TRIMP)", days, [p.run_load for p in series.points], "#1f6feb"),
        band_chart(
            "HRV (ms) against its normal range",
            days,
            [p.hrv_ms for p in series.points],
            series.hrv_range,
            "#1a7f37",
            " ms",
        ),
        bar_chart("Sleep (hours)", days, [p.sleep_h for p in series.points], "#5b6770", " h", line=6.0),
    ]
    nonce = nonce or read_session(request, ctx.key, athlete.id)
    fresh = nonce is None
    nonce = nonce or new_nonce()
    response = _html(
        "report.html.j2",
        status,
        athlete=athlete,
        day=day,
        verdict=verdict,
        update=update,
        update_line=answer.update_line(athlete.timezone) if answer is not None else None,
        headline=flag_headline(verdict.flag) if verdict else None,
        colour=flag_colour(verdict.flag) if verdict else "#5b6770",
        charts=charts,
        # From the reasons, so verdicts stored before v1.2 (without `sources`) are explained too.
        sources=sources_for([r.source for r in verdict.reasons] if verdict else []),
        # The watch carries the newest verdict's workout (a check-in re-pushes at once).
        on_watch=(watch_line(session, athlete.id, day, (update or verdict).flag) if verdict else None)
        or push_impossible_line(session, athlete.id),
        reconnect=reconnect_notice(
            session,
            athlete,
            ctx.settings,
            include_ended=True,
            base=ctx.settings.report_base_url or str(request.base_url),
        ),
        chosen=chosen,
        confirm=claims.kind == "soreness" and message is None,
        stored=stored,
        message=message,
        error=error,
        action=f"/r/{signed}",
        csrf=csrf_token(ctx.key, nonce),
    )
    if fresh:
        set_session(response, request, ctx.key, athlete.id, nonce, ctx.settings.report_session_hours)
    return response


@router.get("/r/{signed}", response_class=HTMLResponse)
async def report_page(signed: str, request: Request, saved: int | None = None) -> Response:
    """The report: the verdict big and coloured, reasons, prescription, charts, soreness form."""
    return await in_session(request, lambda session: _get_report(request, session, signed, saved))


def _get_report(request: Request, session: Session, signed: str, saved: int | None) -> Response:
    ctx = app_context(request)
    found = _athlete(session, ctx, signed, ("report", "soreness"))
    if found is None:
        return invalid_link()
    athlete, claims = found
    message = (
        f"Soreness {saved}/10 recorded: the verdict below is updated."
        if saved is not None and 0 <= saved <= 10
        else None
    )
    return _render_report(request, session, ctx, athlete, claims, signed, message=message)


@router.post("/r/{signed}", response_class=HTMLResponse)
async def report_soreness(
    signed: str, request: Request, form: Annotated[dict[str, str], Depends(_form)]
) -> Response:
    """The soreness form: checks link, session and CSRF token, records, recomputes, redirects."""
    ctx = app_context(request)
    return await in_session(request, lambda session: _post_soreness(request, session, ctx, signed, form))


def _post_soreness(
    request: Request, session: Session, ctx: AppContext, signed: str, form: dict[str, str]
) -> Response:
    found = _athlete(session, ctx, signed, ("report", "soreness"))
    if found is None:
        return invalid_link()
    athlete, claims = found
    nonce = read_session(request, ctx.key, athlete.id)

    def refused(status: int, error: str) -> HTMLResponse:
        return _render_report(request, session, ctx, athlete, claims, signed, status=status, error=error)

    if not csrf_ok(ctx.key, nonce, form.get("csrf")):
        return refused(403, "This form had expired. Please choose the value again and confirm.")
    raw = form.get("value", "")
    # ASCII digits only: str.isdigit() is true for "²" (int() then fails) and for other
    # scripts' digits ("٣" is 3), which are no way to type a soreness value.
    if not SORENESS_FORM_VALUE.fullmatch(raw) or not 0 <= int(raw) <= 10:
        return refused(422, "Choose a soreness value from 0 to 10.")
    try:
        limited = ctx.limiter.hit(f"soreness:{athlete.id}") is not None
    except LimiterUnavailable as exc:
        wait = int(exc.retry_after or UNAVAILABLE_RETRY_S)
        response = refused(503, f"Soreness cannot be recorded right now: please try again in {wait} seconds.")
        response.headers["Retry-After"] = str(wait)
        return response
    if limited:
        return refused(429, "Too many tries: wait a minute.")
    day = claims.day or athlete_today(athlete)
    record_soreness_and_recompute(session, athlete, day, int(raw), ctx.settings)
    return RedirectResponse(f"/r/{signed}?saved={int(raw)}", status_code=303)


async def _unsubscribe(signed: str, request: Request, *, confirmed: bool) -> Response:
    """The unsubscribe page: asks (GET), or unsubscribes (POST); any bad link is the same 404."""
    ctx = app_context(request)

    def work(session: Session) -> Response:
        found = _athlete(session, ctx, signed, ("unsubscribe",))
        if found is None:
            return invalid_link()
        if confirmed:
            found[0].email_enabled = False
        return _html("unsubscribe.html.j2", athlete=found[0], action=f"/u/{signed}", done=confirmed)

    return await in_session(request, work)


@router.get("/u/{signed}", response_class=HTMLResponse)
async def unsubscribe_page(signed: str, request: Request) -> Response:
    """Asks to confirm (a GET changes nothing: mail scanners open links)."""
    return await _unsubscribe(signed, request, confirmed=False)


@router.post("/u/{signed}", response_class=HTMLResponse)
async def unsubscribe(signed: str, request: Request) -> Response:
    """Unsubscribes: the page's button, or a mail client's RFC 8058 one-click POST."""
    return await _unsubscribe(signed, request, confirmed=True)
