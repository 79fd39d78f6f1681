"""A real Celery worker for tests: in this process, on a Redis DB and a private queue."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun

from worker.app import app

__all__ = ["FINISHED", "in_process_worker"]


@dataclass
class Finished:
    """The tasks in-process workers ran to the end (any outcome), in order: the positive signal
    a test waits for instead of sleeping ("every task id done"), since there is no result backend."""

    runs: list[tuple[str, str, Any]] = field(default_factory=list)  # (task id, task name, return value)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, task_id: str, name: str, retval: Any) -> None:
        """Called by the worker thread when a task finishes."""
        with self._lock:
            self.runs.append((task_id, name, retval))

    def done(self, *task_ids: str) -> bool:
        """Whether every one of `task_ids` has finished."""
        with self._lock:
            ids = {run[0] for run in self.runs}
        return all(t in ids for t in task_ids)

    def results(self, *task_ids: str) -> list[Any]:
        """The return values of `task_ids` (finished ones), in the order given."""
        with self._lock:
            by_id = {run[0]: run[2] for run in self.runs}
        return [by_id[t] for t in task_ids]

    def count(self, name: str, since: int = 0) -> int:
        """How many tasks called `name` finished from position `since` on (see `mark`)."""
        with self._lock:
            return sum(1 for _, n, _ in self.runs[since:] if n == name)

    def mark(self) -> int:
        """A position in the log: count only what finishes after it."""
        with self._lock:
            return len(self.runs)


FINISHED = Finished()


@task_postrun.connect(weak=False)
def _record_finished(task_id: str | None = None, task: Any = None, retval: Any = None, **_: Any) -> None:
    if task_id is not None and task is not None:
        FINISHED.record(task_id, task.name, retval)


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
