"""What every request handler needs: settings, the rate limiter, the metrics, a DB session.

Handlers are `async` and do their database work in one threadpool call (`in_session`): the
session is opened, used, committed and closed by the same thread, before the response is sent.
Several hops holding one pooled connection could otherwise starve the pool under load.

The hot reads (today, a day, the watch feed) skip the threadpool and SQLAlchemy: `reader`
(sync/web/hotread.py) runs them on the event loop, on the database driver itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from sync.config import Settings
from sync.db.session import session_scope
from sync.links.secret import report_key
from sync.web.hotread import PostgresReader, SqliteReader, reader_for
from sync.web.metrics import Metrics
from sync.web.ratelimit import RateLimiter

T = TypeVar("T")


@dataclass
class AppContext:
    """Built once per application by `create_app`."""

    settings: Settings
    limiter: RateLimiter
    metrics: Metrics
    key: bytes
    reader: SqliteReader | PostgresReader

    @classmethod
    def build(cls, settings: Settings, clock: Callable[[], float] = time.time) -> AppContext:
        """Resolve the secret and connect the limiter (Redis when configured) on `clock`."""
        return cls(
            settings=settings,
            limiter=RateLimiter(settings.soreness_rate_per_minute, settings.redis_url, clock=clock),
            metrics=Metrics(settings),
            key=report_key(settings),
            reader=reader_for(settings),
        )


def app_context(request: Request) -> AppContext:
    """The application's context."""
    return request.app.state.ctx


async def in_session(request: Request, work: Callable[[Session], T]) -> T:
    """Run `work(session)` in a worker thread; committed when it returns, rolled back if it raises."""
    settings = app_context(request).settings

    def run() -> T:
        with session_scope(settings) as session:
            return work(session)

    return await run_in_threadpool(run)
