"""A real Celery worker for tests: in this process, on a Redis DB and a private queue."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from celery.contrib.testing.worker import start_worker

from worker.app import app

__all__ = ["in_process_worker"]


def _reset_connections() -> None:
    # The broker URL changed: drop pools built for the previous transport.
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def in_process_worker(redis_url: str, prefix: str = "legday-test") -> Iterator[str]:
    """A solo worker consuming a fresh private queue (syncs routed there too); yields the queue.

    Each suite passes its own Redis DB so concurrent test runs never take each other's tasks.
    """
    queue = f"{prefix}-{uuid.uuid4().hex[:8]}"
    keys = ("broker_url", "task_always_eager", "task_default_queue", "task_routes")
    saved = {k: app.conf[k] for k in keys}
    routes = {"worker.tasks.sync_account": {"queue": queue}}  # syncs too, not legday.sync
    app.conf.update(
        broker_url=redis_url, task_always_eager=False, task_default_queue=queue, task_routes=routes
    )
    _reset_connections()
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, queues=[queue], loglevel="WARNING"):
            yield queue
    finally:
        app.conf.update(saved)
        _reset_connections()
