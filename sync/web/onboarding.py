"""The invite page at /join/{signed}: an athlete connects their Garmin account themselves.

GET shows the steps to create a Personal API key and a form (key, its expiry, email, time
zone, send time); POST checks the CSRF token and a rate limit, then `sync.onboarding.accept`
consumes the invite, checks the key with Garmin and stores it encrypted, and the first sync
starts at once (sync.onboarding.first_sync). Works without JavaScript. The key is never logged,
echoed back or put in a task message, and the invite URL is redacted from the access log.
"""

from __future__ import annotations

import logging
import re
import secrets
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import available_timezones

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from sync.db.models import Athlete
from sync.errors import LegdayError, PermanentError, TransientError
from sync.garmin_sync.accounts import PERSONAL_API_KEY_DAYS
from sync.links.build import report_link
from sync.links.signing import sign, verify
from sync.onboarding.accept import JoinForm, accept_invite, parse_form
from sync.onboarding.first_sync import queue_first_sync, run_first_sync
from sync.onboarding.invites import InviteClaims, InviteUsed, is_used, verify_invite
from sync.web.context import AppContext, app_context, in_session
from sync.web.cookie_session import csrf_ok, csrf_token, new_nonce
from sync.web.pages import TEMPLATES
from sync.web.ratelimit import RateLimiter

log = logging.getLogger(__name__)

COOKIE_NAME = "legday_join"
COOKIE_PURPOSE = "join-session"
COOKIE_HOURS = 2
TRIES_PER_MINUTE = 5  # per invite and per client address: enough for typos, not for guessing
NOT_VALID = "This invite link is not valid or has expired. Ask the person who sent it for a new one."
USED = "This invite link was used already, so it no longer works. Ask for a new one to connect again."

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def _zones() -> list[str]:
    return sorted(z for z in available_timezones() if "/" in z or z == "UTC")


def _page(
    template: str, status: int = 200, background: BackgroundTask | None = None, **values: Any
) -> HTMLResponse:
    nonce = secrets.token_urlsafe(12)
    body = TEMPLATES.get_template(template).render(nonce=nonce, **values)
    csp = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    return HTMLResponse(
        body,
        status_code=status,
        headers={"Content-Security-Policy": csp, "Cache-Control": "no-store"},
        background=background,
    )


def _message(title: str, message: str, status: int) -> HTMLResponse:
    return _page("message.html.j2", status, title=title, message=message)


def _session_nonce(request: Request, key: bytes, claims: InviteClaims) -> str | None:
    found = verify(key, COOKIE_PURPOSE, request.cookies.get(COOKIE_NAME))
    if found is None or found.get("i") != claims.nonce or not isinstance(found.get("n"), str):
        return None
    return found["n"]


def _form_page(
    request: Request,
    ctx: AppContext,
    athlete: Athlete,
    claims: InviteClaims,
    signed: str,
    *,
    status: int = 200,
    error: str | None = None,
    posted: dict[str, str] | None = None,
) -> HTMLResponse:
    """The form, prefilled from the athlete (or what was posted; never the key)."""
    posted = posted or {}
    nonce = _session_nonce(request, ctx.key, claims)
    fresh = nonce is None
    nonce = nonce or new_nonce()
    expires = posted.get("expires", "")
    response = _page(
        "join.html.j2",
        status,
        athlete=athlete,
        done=False,
        error=error,
        action=f"/join/{signed}",
        csrf=csrf_token(ctx.key, nonce),
        expiry_days=PERSONAL_API_KEY_DAYS,
        expires=int(expires) if expires.isascii() and expires.isdigit() else None,
        email=posted.get("email", athlete.email),
        zones=_zones(),
        timezone=posted.get("timezone", athlete.timezone),
        send_time=posted.get("send_time", athlete.send_time.strftime("%H:%M")),
        expires_at=claims.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
    )
    if fresh:
        value = sign(ctx.key, COOKIE_PURPOSE, {"i": claims.nonce, "n": nonce}, COOKIE_HOURS * 3600)
        response.set_cookie(
            COOKIE_NAME,
            value,
            max_age=COOKIE_HOURS * 3600,
            path="/join/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
    return response


@router.get("/join/{signed}", response_class=HTMLResponse)
async def join_page(signed: str, request: Request) -> Response:
    """The invite: steps to create a Personal API key, and the form."""
    ctx = app_context(request)
    claims = verify_invite(signed, ctx.settings)
    if claims is None:
        return _message("Invite not valid", NOT_VALID, 404)

    def work(session: Session) -> Response:
        athlete = session.get(Athlete, claims.athlete_id)
        if athlete is None:
            return _message("Invite not valid", NOT_VALID, 404)
        if is_used(session, claims):
            return _message("Invite already used", USED, 410)
        return _form_page(request, ctx, athlete, claims, signed)

    return await in_session(request, work)


async def _fields(request: Request) -> dict[str, str]:
    raw = await request.body()  # its size is capped by the middleware
    try:
        fields = parse_qs(raw.decode("utf-8"), max_num_fields=12)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {k: v[-1] for k, v in fields.items()}


def _limited(request: Request, claims: InviteClaims) -> str | None:
    """None when the post may go on; else `limited` (too many tries) or `unavailable` (no limiter:
    Redis is down, so the post is refused rather than let through unlimited)."""
    limiter: RateLimiter = request.app.state.join_limiter
    client = request.client.host if request.client else "unknown"
    try:
        hits = [limiter.hit(k) for k in (f"join:{claims.nonce}", f"join-ip:{client}")]
    except Exception as exc:  # noqa: BLE001 - any limiter failure means the same here
        log.warning("onboarding: rate limiter unavailable (%s); post refused", type(exc).__name__)
        return "unavailable"
    return "limited" if any(h is not None for h in hits) else None


@router.post("/join/{signed}", response_class=HTMLResponse)
async def join(signed: str, request: Request) -> Response:
    """Connect: CSRF, rate limit, then consume the invite and store the key, or say why not."""
    ctx = app_context(request)
    claims = verify_invite(signed, ctx.settings)
    if claims is None:
        return _message("Invite not valid", NOT_VALID, 404)
    fields = await _fields(request)
    posted = {k: v for k, v in fields.items() if k in ("expires", "email", "timezone", "send_time")}
    limited = _limited(request, claims)
    csrf_good = csrf_ok(ctx.key, _session_nonce(request, ctx.key, claims), fields.get("csrf"))

    def work(session: Session) -> Response | tuple[int, str, str | None, str, str | None]:
        athlete = session.get(Athlete, claims.athlete_id)
        if athlete is None:
            return _message("Invite not valid", NOT_VALID, 404)
        if is_used(session, claims):
            return _message("Invite already used", USED, 410)

        def again(status: int, error: str) -> HTMLResponse:
            return _form_page(
                request, ctx, athlete, claims, signed, status=status, error=error, posted=posted
            )

        if not csrf_good:
            return again(403, "This form had expired. Please paste your key again and connect.")
        if limited == "unavailable":
            busy = again(
                503, "legday cannot take this form just now; nothing was stored. Try again in a minute."
            )
            busy.headers["Retry-After"] = "60"
            return busy
        if limited:
            return again(429, "Too many tries: wait a minute, then try again.")
        try:
            form: JoinForm = parse_form(fields)
        except LegdayError as exc:
            return again(422, str(exc))
        session.rollback()  # the reads above end here: the invite's insert is the first write
        try:
            account = accept_invite(session, claims, form, ctx.settings)
            ends = account.credential_ends_at
            result = (account.id, account.display_name or "", ends.strftime("%Y-%m-%d") if ends else None)
            session.commit()
        except InviteUsed:
            session.rollback()
            return _message("Invite already used", USED, 410)
        except TransientError:
            session.rollback()
            return again(
                503, "Garmin did not answer just now; nothing was stored. Please try again in a minute."
            )
        except PermanentError as exc:  # a refused key, a bad setting: one line, never the key
            session.rollback()
            return again(422, f"{str(exc).rstrip('.')}. Nothing was stored.")
        joined = session.get(Athlete, claims.athlete_id)
        assert joined is not None
        return (
            *result,
            joined.name,
            report_link(
                joined, settings=ctx.settings, base=ctx.settings.report_base_url or str(request.base_url)
            ),
        )

    outcome = await in_session(request, work)
    if isinstance(outcome, Response):
        return outcome
    account_id, display_name, ends, name, report = outcome
    log.info("onboarding: athlete %s connected with a Personal API key (account %s)", name, account_id)
    background = None
    if queue_first_sync(account_id, ctx.settings):
        first = "Your first sync is queued: your data arrives within a few minutes."
    else:
        first = "Your first sync is running now: your data arrives within a few minutes."
        background = BackgroundTask(run_first_sync, account_id, ctx.settings)
    return _page(
        "join.html.j2",
        200,
        background=background,
        athlete={"name": name},
        done=True,
        display_name=display_name,
        first_sync=first,
        ends=ends or "unknown",
        report=report,
    )


# Signed links are credentials: the access log shows their route, never the signed part.
_SIGNED_PATH = re.compile(r"^/(join|r|u)/[^/?\s]+")


class RedactSignedLinks(logging.Filter):
    """Replaces the signed segment of /join/, /r/ and /u/ paths in uvicorn's access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _SIGNED_PATH.sub(r"/\1/<redacted>", a) if isinstance(a, str) else a for a in record.args
            )
        return True


def install(app: FastAPI, ctx: AppContext) -> None:
    """Add the invite page, its rate limiter and the access-log redaction to `app`."""
    app.state.join_limiter = RateLimiter(TRIES_PER_MINUTE, ctx.settings.redis_url)
    app.include_router(router)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactSignedLinks) for f in access.filters):
        access.addFilter(RedactSignedLinks())
