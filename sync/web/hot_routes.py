"""The hot reads' responses (today, a day, the watch feed), and the lane that serves them first.

`day_response` and `watch_response` build the whole answer (status, headers, body) from the
bearer token: the FastAPI routes of `sync.web.api` return them, and so does `HotLane`, a pure
ASGI middleware that answers `GET /v1/watch` and `GET /v1/verdicts/today` before FastAPI's
router and dependency solving (three quarters of a watch poll's CPU when they ran, for two
routes that take no parameters to validate). Same functions, so the same bytes either way
(tests/integration/test_hot_lane.py compares them); the routes stay the documented schema.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.security.utils import get_authorization_scheme_param
from starlette.responses import JSONResponse, Response

from sync.verdicts.announced import DayAnswer, answer_from
from sync.web.hotread import PostgresReader, SqliteReader
from sync.web.watch import etag_matches, watch_body

UNAUTHORIZED = "a valid bearer token is required"
WATCH_CACHE_CONTROL = "private, max-age=300, must-revalidate"
# Verdicts change when soreness is reported: clients revalidate, shared caches never store them.
NO_CACHE = {"Cache-Control": "private, no-cache", "Vary": "Authorization"}

Reader = SqliteReader | PostgresReader
Scope = dict[str, Any]


def problem(status: int, detail: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    """An error as FastAPI's HTTPException handler writes it: `{"detail": ...}`."""
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def unauthorized() -> JSONResponse:
    """The one 401 for every kind of bad token (missing, malformed, wrong, revoked)."""
    return problem(401, UNAUTHORIZED, {"WWW-Authenticate": "Bearer"})


def bearer_token(authorization: str | None) -> str | None:
    """The credentials of an `Authorization: Bearer ...` header, as FastAPI's HTTPBearer reads them."""
    scheme, credentials = get_authorization_scheme_param(authorization)
    if not (authorization and scheme and credentials) or scheme.lower() != "bearer":
        return None
    return credentials


async def day_answer(
    reader: Reader, token: str | None, day: dt.date | None
) -> tuple[DayAnswer | None, str] | None:
    """The day's answer for `day` (or the owner's today) and the owner's time zone: the verdict
    its morning message said (else the one that counts) with a later change as its update, or
    no answer when no verdict is stored; None for a bad token. A read only (a GET never writes).

    On the database driver, on the event loop (sync/web/hotread.py): no thread hop, no
    SQLAlchemy session or transaction; one statement (on PostgreSQL one round trip) gives the
    owner, the day's verdicts and the announced one.
    """
    found = await reader.read(token, day)
    if found is None:
        return None
    owner, _day, current, announced = found
    return answer_from(announced, current), owner.timezone


async def day_response(reader: Reader, token: str | None, day: dt.date | None) -> Response:
    """`GET /v1/verdicts/today` (day None) and `/v1/verdicts/{day}`: 200, 401 or 404."""
    found = await day_answer(reader, token, day)
    if found is None:
        return unauthorized()
    answer, timezone = found
    if answer is None:
        return problem(404, f"no verdict for {day.isoformat() if day else 'today'}")
    return JSONResponse(answer.to_json(timezone), headers=NO_CACHE)


async def watch_response(reader: Reader, token: str | None, if_none_match: str | None) -> Response:
    """`GET /v1/watch`: the compact feed with a strong ETag; 304 when If-None-Match names it."""
    found = await day_answer(reader, token, None)
    if found is None:
        return unauthorized()
    answer, timezone = found
    if answer is None:
        return problem(404, "no verdict for today")
    body, etag = watch_body(answer, timezone)
    headers = {"ETag": etag, "Cache-Control": WATCH_CACHE_CONTROL, "Vary": "Authorization"}
    if etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def _header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header (names arrive lower-cased), as Starlette decodes it."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


async def _today(reader: Reader, scope: Scope) -> Response:
    return await day_response(reader, bearer_token(_header(scope, b"authorization")), None)


async def _watch(reader: Reader, scope: Scope) -> Response:
    token = bearer_token(_header(scope, b"authorization"))
    return await watch_response(reader, token, _header(scope, b"if-none-match"))


# The paths the lane answers, and what answers them. Anything else (HEAD, other methods, a
# trailing slash, another path) goes on to FastAPI.
LANE: dict[str, Callable[[Reader, Scope], Awaitable[Response]]] = {
    "/v1/verdicts/today": _today,
    "/v1/watch": _watch,
}


class HotLane:
    """Answers `GET` on the `LANE` paths itself; passes every other request to `app`.

    `routes` maps each lane path to its FastAPI route, put in the scope as Starlette's router
    would, so the request metrics label the request with the same route template.
    """

    def __init__(self, app: Any, *, reader: Reader, routes: dict[str, Any]) -> None:
        self.app = app
        self.reader = reader
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path = scope["path"]
            root = scope.get("root_path", "")
            if root and path.startswith(root + "/"):
                path = path[len(root) :]
            handler = LANE.get(path)
            if handler is not None:
                scope["route"] = self.routes.get(path)
                response = await handler(self.reader, scope)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
