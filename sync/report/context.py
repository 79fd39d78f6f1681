"""What every request handler needs: settings, the rate limiter, the metrics, a DB session."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from sync.config import Settings
from sync.db.session import session_scope
from sync.report.metrics import Metrics
from sync.report.ratelimit import RateLimiter
from sync.report.secret import report_key


@dataclass
class AppContext:
    """Built once per application by `create_app`."""

    settings: Settings
    limiter: RateLimiter
    metrics: Metrics
    key: bytes

    @classmethod
    def build(cls, settings: Settings) -> AppContext:
        """Resolve the secret and connect the limiter (Redis when configured)."""
        return cls(
            settings=settings,
            limiter=RateLimiter(settings.soreness_rate_per_minute, settings.redis_url),
            metrics=Metrics(settings),
            key=report_key(settings),
        )


def app_context(request: Request) -> AppContext:
    """The application's context (a FastAPI dependency)."""
    return request.app.state.ctx


def db(request: Request) -> Iterator[Session]:
    """A session committed when the handler returns normally (a FastAPI dependency)."""
    with session_scope(request.app.state.ctx.settings) as session:
        yield session


# Committed before the response is sent ("function" scope), so a client that follows a redirect
# or reads right after a write always sees it.
DB = Annotated[Session, Depends(db, scope="function")]
