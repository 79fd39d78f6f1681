"""The Celery app, configured from legday's settings.

With LEGDAY_REDIS_URL unset (the embedded default) tasks run eagerly in-process, so one
machine and one athlete need no broker. With it set, workers scale out on Redis.
"""

from __future__ import annotations

from celery import Celery
from celery.signals import heartbeat_sent, setup_logging, worker_process_init

from sync.config import get_settings


def _transport_options(visibility_timeout_s: int) -> dict[str, int]:
    """Redis transport options: the visibility timeout, and how often workers look for the
    unacknowledged messages of dead workers that have outlived it.

    kombu sweeps every `unacked_restore_interval` x `unacked_restore_throttle` seconds (about
    100 s by default); a sweep every tenth of the timeout, at most a minute apart, is one cheap
    ZRANGE per worker and brings a lost worker's tasks back soon after the timeout.
    """
    return {
        "visibility_timeout": visibility_timeout_s,
        "unacked_restore_interval": max(1, min(60, visibility_timeout_s // 10)),
        "unacked_restore_throttle": 1,
    }


def make_app() -> Celery:
    """Build the Celery app from the current settings."""
    settings = get_settings()
    app = Celery("legday", include=["worker.tasks"], task_cls="worker.base:LegdayTask")
    broker = settings.redis_url
    app.conf.update(
        broker_url=broker or "memory://",
        result_backend=None,
        task_always_eager=broker is None,
        task_eager_propagates=True,
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        # Writes are idempotent upserts, so a redelivery is harmless: acknowledge a task only
        # once it has finished, and put it back on the queue when its worker child dies
        # (SIGKILL, OOM) instead of marking it failed. docs/service.md says more.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # Redis redelivers a message nobody acknowledged after this long (a whole worker died
        # with it). It must exceed the longest task plus its longest retry countdown, or a live
        # task would run twice; shorter than Redis' default hour so a dead worker's work returns.
        broker_transport_options=_transport_options(settings.visibility_timeout_s),
        task_default_queue=settings.queue,
        task_routes={"worker.tasks.sync_account": {"queue": settings.sync_queue}},
        task_ignore_result=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        timezone="UTC",
    )
    from worker.schedule import beat_schedule

    app.conf.beat_schedule = beat_schedule()
    return app


app = make_app()


@worker_process_init.connect
def _dispose_engines_after_fork(**_: object) -> None:
    # A forked child must not reuse the parent's pooled connections (database, Garmin).
    from sync.db.session import dispose_engines
    from sync.garmin_sync.clients import forget_clients

    dispose_engines(close=False)
    forget_clients()


@setup_logging.connect
def _configure_logging(**_: object) -> None:
    # Our format (with athlete and task ids) instead of Celery's own root logger setup.
    from sync.config import warn_unknown_variables
    from sync.logging import configure_logging

    configure_logging(get_settings().log_level)
    warn_unknown_variables()  # a misspelt LEGDAY_* setting must not pass silently


_last_alive = 0.0


@heartbeat_sent.connect
def _mark_alive(sender: object, **_: object) -> None:
    # A cheap liveness mark for `legday worker --check` (compose's health check), refreshed from
    # the worker's own event heartbeat (every 2 s; written at most every 10 s): no Celery client
    # process started per check, and only this node's file, so a dead role shows as dead.
    import time

    global _last_alive
    now = time.monotonic()
    if now - _last_alive < 10:
        return
    from sync.locks import worker_heartbeat_file

    hostname = getattr(getattr(sender, "eventer", None), "hostname", None)
    if not hostname:
        return
    path = worker_heartbeat_file(get_settings(), hostname)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        _last_alive = now
    except OSError:  # a read-only or full data dir: the health check will say so
        pass
