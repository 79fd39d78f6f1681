"""The application factory: `create_app(settings)` wires the API, the pages and the middleware."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from sync.config import Settings, get_settings
from sync.web import api, calendar, onboarding, pages
from sync.web.context import AppContext
from sync.web.health import health
from sync.web.hot_routes import LANE, HotLane
from sync.web.metrics import CONTENT_TYPE
from sync.web.middleware import GuardMiddleware
from sync.web.schemas import Health

DESCRIPTION = (
    "Verdicts (RUN / EASY / REST) for the athlete named by the bearer token, a watch feed and the "
    "soreness check-in. Send `Authorization: Bearer <token>` (`legday token issue --athlete NAME`)."
)


def create_app(
    settings: Settings | None = None, clock: Callable[[], float] = time.time, *, hot_lane: bool = True
) -> FastAPI:
    """A new application serving the given settings' database (default: the process settings).

    `clock` (epoch seconds) is what the soreness rate limit counts on: tests pass their own.
    `hot_lane` False serves the watch feed and today's verdict through FastAPI's router too
    (sync/web/hot_routes.py; tests compare the two).
    """
    settings = settings or get_settings()
    ctx = AppContext.build(settings, clock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await ctx.reader.close()  # the hot read's connections, on the loop that opened them

    app = FastAPI(
        title="legday", version="1", description=DESCRIPTION, docs_url=None, redoc_url=None, lifespan=lifespan
    )
    app.state.ctx = ctx
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(calendar.router)
    onboarding.install(app, ctx)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        """422 in FastAPI's shape, without echoing the input: an echoed NaN or 1e309 (a float
        infinity once parsed) cannot be written as JSON, and made FastAPI's own handler a 500."""
        return JSONResponse({"detail": validation_details(exc)}, status_code=422)

    @app.get("/healthz", response_model=Health, responses={503: {"model": Health}}, tags=["ops"])
    def healthz() -> JSONResponse:
        """Database, and Redis when configured: 200 when all are up, 503 otherwise."""
        healthy, body = health(settings)
        return JSONResponse(body, status_code=200 if healthy else 503, headers={"Cache-Control": "no-store"})

    @app.get("/metrics", response_class=Response, tags=["ops"])
    def metrics() -> Response:
        """Prometheus text: verdicts by flag, sync runs, email deliveries, request latencies."""
        return Response(ctx.metrics.render(), media_type=CONTENT_TYPE)

    # Innermost first: the hot lane answers its two GETs inside the guard (headers, metrics).
    if hot_lane:
        routes = {r.path: r for r in api.router.routes if isinstance(r, APIRoute) and r.path in LANE}
        if set(routes) != set(LANE):
            raise RuntimeError(f"the hot lane's paths {sorted(LANE)} are not all routes of the API")
        app.add_middleware(HotLane, reader=ctx.reader, routes=routes)
    app.add_middleware(GuardMiddleware, max_body=settings.api_max_body_bytes, metrics=ctx.metrics)
    return app


def validation_details(exc: RequestValidationError) -> list[dict[str, object]]:
    """Each error's `loc`, `msg` and `type`: plain strings and ints, always valid JSON."""
    return [
        {
            "loc": [part if isinstance(part, int) else str(part) for part in error.get("loc", ())],
            "msg": str(error.get("msg", "")),
            "type": str(error.get("type", "")),
        }
        for error in exc.errors()
    ]
