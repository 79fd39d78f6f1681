"""`LegdayTask`, the base of every task: log ids, one retry policy, time limits.

- **Log ids.** Celery's `task_prerun` / `task_postrun` signals bind `task_id` and the task's
  `athlete_id` / `account_id` arguments (when it has them) to the log context for the whole
  run, dispatchers included; no task binds them by hand.
- **Retries.** A `TransientError` (Garmin unavailable, an account whose lock another call
  holds...) or a lost database (`OperationalError`) is retried with capped, jittered backoff:
  `RETRY_BACKOFF_S` x 2^retries, at most `MAX_RETRY_COUNTDOWN_S`, times 0.5-1 (never zero, so
  a fleet's retries spread out). An error that says how long to wait (`retry_after`, e.g. the
  lease left on a busy account's lock) waits that long plus 1-5 s, capped the same way. An error
  class may allow more attempts (`AccountBusy.max_retries`). When the attempts run out, or on a
  `PermanentError`, the task ends with one warning line and the error's `status`.
- **Time limits.** Each task kind declares its soft and hard limit (`TIME_LIMITS`), all well
  below the Redis visibility timeout minus the longest countdown (docs/service.md). Celery
  enforces them in prefork children (the compute role); a threads pool (the sync role) cannot
  interrupt a thread, so there the Garmin client's per-request timeouts bound a sync.
"""

from __future__ import annotations

import inspect
import logging
import random
from contextlib import suppress
from typing import Any

from celery import Task
from celery.exceptions import Ignore
from celery.signals import task_postrun, task_prerun
from sqlalchemy.exc import OperationalError

from sync.errors import PermanentError, TransientError
from sync.logging import bind_ids, unbind_ids

log = logging.getLogger(__name__)

# Retry countdowns plus a task's run time stay well under Redis' visibility timeout (15 min by
# default); longer waits (a 429 backoff) are left to the dispatcher, which skips rate-limited
# accounts until their time has come.
MAX_RETRY_COUNTDOWN_S = 300
RETRY_BACKOFF_S = 30
MAX_RETRIES = 5

# (soft, hard) seconds per task kind. The longest task, a first sync, is under 3 minutes
# (about 140 requests at one a second); 300 + the 300 s countdown stays under the 900 s timeout.
TIME_LIMITS: dict[str, tuple[int, int]] = {
    "dispatch": (30, 60),  # one query and a queue per due item
    "verdict": (60, 90),  # one athlete-day: a few queries and the rules
    "email": (90, 120),  # one SMTP conversation (its own timeouts are 30 s)
    "notify": (90, 120),  # an athlete's push channels, one after the other (10 s timeouts each)
    "push": (150, 180),  # a few Garmin calls under the account's lock
    "sync": (240, 300),  # a first sync reaching 60 days back
}

_ID_ARGS = ("athlete_id", "account_id")


def limits(kind: str) -> dict[str, int]:
    """The `soft_time_limit` / `time_limit` options of a task kind, for `@app.task(...)`."""
    soft, hard = TIME_LIMITS[kind]
    return {"soft_time_limit": soft, "time_limit": hard}


def countdown_s(retries: int, retry_after: float | None = None) -> float:
    """The one backoff rule: capped, jittered exponential, or `retry_after` plus 1-5 s."""
    if retry_after is not None:
        return min(float(MAX_RETRY_COUNTDOWN_S), max(0.0, retry_after) + random.uniform(1, 5))
    full = min(MAX_RETRY_COUNTDOWN_S, RETRY_BACKOFF_S * 2**retries)
    return full * random.uniform(0.5, 1.0)


class LegdayTask(Task):
    """Base of legday's tasks (set as the app's `task_cls`)."""

    autoretry_for = (TransientError, OperationalError)
    # Celery's autoretry passes `retry` a plain exponential countdown (its own jitter is off: it
    # may reach zero); `retry` below replaces it with `countdown_s`, the one rule.
    retry_backoff = RETRY_BACKOFF_S
    retry_backoff_max = MAX_RETRY_COUNTDOWN_S
    retry_jitter = False
    max_retries = MAX_RETRIES
    retry_eagerly = True  # see `retry`

    def retry(
        self,
        args: Any = None,
        kwargs: Any = None,
        exc: BaseException | None = None,
        throw: bool = True,
        eta: Any = None,
        countdown: float | None = None,
        max_retries: int | None = None,
        **options: Any,
    ) -> Any:
        """Celery's retry, with the countdown and attempt count of `exc` (see the module).

        An in-process (eager) run of a task with `retry_eagerly = False` is not retried (it
        ends with a warning): nobody would wait for its countdown and its caller must not get
        Celery's `Retry` (the workout push, queued from inside a verdict computation). Others
        raise Celery's `Retry` to their in-process caller, as Celery does.
        """
        if exc is not None and eta is None:
            retry_after = getattr(exc, "retry_after", None)
            countdown = countdown_s(self.request.retries, retry_after)
            max_retries = getattr(exc, "max_retries", None) or max_retries
            if self.request.is_eager and not self.retry_eagerly:
                log.warning("%s: %s; not retried in-process", self.name, _what(exc))
                raise Ignore()
            log.warning(
                "%s: %s; retry %d in %.0f s", self.name, _what(exc), self.request.retries + 1, countdown
            )
        return super().retry(args, kwargs, exc, throw, eta, countdown, max_retries, **options)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            if self.request_stack.top is not None:
                # Run by Celery's tracer (a worker or `apply`), which pushed this run's request
                # (id, retries, is_eager): Task.__call__ would push a bare one over it.
                return self.run(*args, **kwargs)
            return super().__call__(*args, **kwargs)
        except PermanentError as exc:
            log.warning("%s: %s; not retried", self.name, exc)
            return getattr(exc, "status", "failed")
        except TransientError as exc:  # the retries ran out (or none): the next dispatch tries again
            log.warning("%s: %s; gave up after %d retries", self.name, exc, self.request.retries)
            return getattr(exc, "status", "failed")


def _what(exc: BaseException) -> str:
    # Our errors are written for the log (never a token); anything else is named by its type:
    # a driver's message may quote a statement and its parameters.
    from sync.errors import LegdayError

    return str(exc) if isinstance(exc, LegdayError) else type(exc).__name__


def _task_ids(task: Task, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, object]:
    try:
        bound = inspect.signature(task.run).bind_partial(*args, **kwargs).arguments
    except TypeError:  # a call that does not fit: Celery reports it; log what we know
        bound = dict(kwargs)
    return {k: bound[k] for k in _ID_ARGS if bound.get(k) is not None}


_bound: dict[str, Any] = {}


@task_prerun.connect
def _bind_ids(
    task_id: str, task: Task, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None, **_: object
) -> None:
    _bound[task_id] = bind_ids(task_id=task_id, **_task_ids(task, args or (), kwargs or {}))


@task_postrun.connect
def _unbind_ids(task_id: str, **_: object) -> None:
    token = _bound.pop(task_id, None)
    if token is not None:
        # ValueError: set in another context (a thread pool hop); nothing of ours is left.
        with suppress(ValueError):
            unbind_ids(token)
