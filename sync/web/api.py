"""The JSON API under /v1: the token names the athlete, so paths carry no athlete id."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from sync.db.models import Athlete
from sync.verdicts.announced import answers_between
from sync.verdicts.policy import record_soreness_and_recompute
from sync.verdicts.read import MAX_RANGE_DAYS, athlete_today
from sync.web.api_tokens import athlete_for_token
from sync.web.context import app_context, in_session
from sync.web.hot_routes import NO_CACHE, UNAUTHORIZED, day_response, watch_response
from sync.web.ratelimit import UNAVAILABLE_RETRY_S, LimiterUnavailable
from sync.web.schemas import Problem, SorenessIn, VerdictList, VerdictOut, WatchOut

T = TypeVar("T")
SORENESS_PAST_DAYS = 14

AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing, wrong or revoked token (always the same answer)."},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No verdict for that day."}
}


bearer = HTTPBearer(auto_error=False, description="`legday token issue --athlete NAME`")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def _authenticate(session: Session, credentials: HTTPAuthorizationCredentials | None) -> Athlete:
    """The athlete the bearer token names; one identical 401 for every kind of failure."""
    athlete = athlete_for_token(session, _token(credentials))
    if athlete is None:
        raise HTTPException(401, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})
    return athlete


async def as_athlete(
    request: Request, credentials: HTTPAuthorizationCredentials | None, work: Callable[[Session, Athlete], T]
) -> T:
    """Authenticate and run `work(session, athlete)` in one database session and one thread."""
    return await in_session(request, lambda session: work(session, _authenticate(session, credentials)))


def _token(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    return credentials.credentials if credentials else None


def unprocessable(loc: list[str], msg: str) -> HTTPException:
    """A 422 shaped like FastAPI's own validation errors."""
    return HTTPException(422, [{"loc": loc, "msg": msg, "type": "value_error"}])


router = APIRouter(prefix="/v1", responses=AUTH_RESPONSES, tags=["verdicts"])


@router.get("/verdicts/today", response_model=VerdictOut, responses=NOT_FOUND)
async def verdict_today(request: Request, credentials: Credentials) -> Response:
    """Today's verdict (athlete-local date); 404 until the worker has computed it."""
    # Served by sync.web.hot_routes.HotLane before FastAPI; this route documents it (and
    # answers when the lane is not in front, as in tests of the lane itself).
    return await day_response(app_context(request).reader, _token(credentials), None)


@router.get("/verdicts/{day}", response_model=VerdictOut, responses=NOT_FOUND)
async def verdict_of_day(day: dt.date, request: Request, credentials: Credentials) -> Response:
    """The verdict that counts for one day (YYYY-MM-DD); 404 when none is stored."""
    return await day_response(app_context(request).reader, _token(credentials), day)


@router.get("/verdicts", response_model=VerdictList)
async def verdict_range(
    request: Request,
    credentials: Credentials,
    first: Annotated[dt.date, Query(alias="from", description="First date, YYYY-MM-DD.")],
    last: Annotated[dt.date, Query(alias="to", description="Last date, YYYY-MM-DD (at most 366 days).")],
) -> JSONResponse:
    """Stored verdicts from `from` to `to` inclusive, oldest first."""

    def work(session: Session, athlete: Athlete) -> JSONResponse:
        if last < first:
            raise unprocessable(["query", "to"], "`to` must not be before `from`")
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            raise unprocessable(["query", "to"], f"a range covers at most {MAX_RANGE_DAYS} days")
        answers = answers_between(session, athlete.id, first, last)
        return JSONResponse({"verdicts": [a.to_json(athlete.timezone) for a in answers]}, headers=NO_CACHE)

    return await as_athlete(request, credentials, work)


@router.get(
    "/watch",
    response_model=WatchOut,
    responses={304: {"description": "Not modified (If-None-Match)."}, **NOT_FOUND},
    tags=["watch"],
)
async def watch(request: Request, credentials: Credentials) -> Response:
    """A tiny JSON for a watch widget, with an ETag: send If-None-Match to get a 304."""
    # Served by sync.web.hot_routes.HotLane before FastAPI, like /verdicts/today.
    reader = app_context(request).reader
    return await watch_response(reader, _token(credentials), request.headers.get("if-none-match"))


@router.post(
    "/soreness",
    response_model=VerdictOut,
    responses={
        413: {"model": Problem, "description": "Body too large."},
        429: {"model": Problem, "description": "Too many soreness posts: retry later."},
        503: {"model": Problem, "description": "Cannot be recorded right now (Retry-After)."},
    },
    tags=["soreness"],
)
async def post_soreness(report: SorenessIn, request: Request, credentials: Credentials) -> JSONResponse:
    """Record soreness (0-10) for a day (default today), recompute that day's verdict, return it."""
    limiter = app_context(request).limiter

    def work(session: Session, athlete: Athlete) -> JSONResponse:
        today = athlete_today(athlete)
        day = report.date or today
        if not today - dt.timedelta(days=SORENESS_PAST_DAYS) <= day <= today + dt.timedelta(days=1):
            raise unprocessable(
                ["body", "date"], f"soreness can be given from {SORENESS_PAST_DAYS} days ago to tomorrow"
            )
        try:
            retry = limiter.hit(f"soreness:{athlete.id}")
        except LimiterUnavailable as exc:
            wait = int(exc.retry_after or UNAVAILABLE_RETRY_S)
            raise HTTPException(
                503,
                f"soreness cannot be recorded right now: try again in {wait} seconds",
                headers={"Retry-After": str(wait)},
            ) from None
        if retry is not None:
            raise HTTPException(
                429,
                "too many soreness posts: try again in a minute",
                headers={"Retry-After": str(int(retry) + 1)},
            )
        settings = app_context(request).settings
        stored = record_soreness_and_recompute(session, athlete, day, report.value, settings)
        return JSONResponse(stored.to_json())

    return await as_athlete(request, credentials, work)
