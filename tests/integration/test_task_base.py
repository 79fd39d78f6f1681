"""`LegdayTask`: the log ids every task carries, the one backoff rule, the time limits."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from sync.config import Settings
from sync.errors import ConfigError, TransientError
from sync.logging import ContextIdsFilter
from worker import base, tasks
from worker.app import app


class _Ids(logging.Handler):
    """Keeps each record's bound ids (what the log format prints)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.addFilter(ContextIdsFilter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()}{record.ids}")  # type: ignore[attr-defined]


@pytest.fixture
def ids() -> Iterator[_Ids]:
    handler = _Ids()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


def test_every_task_logs_its_ids_dispatchers_included(db_settings: Settings, ids: _Ids) -> None:
    result = tasks.compute_verdict.apply(args=[10_000])  # a gone athlete: one log line
    gone = [line for line in ids.lines if line.startswith("athlete gone")]
    assert gone == [f"athlete gone; verdict skipped [task_id={result.id} athlete_id=10000]"]
    dispatched = tasks.dispatch_syncs.apply()
    line = next(line for line in ids.lines if line.startswith("dispatch:"))
    assert line.endswith(f"[task_id={dispatched.id}]")
    ids.lines.clear()
    logging.getLogger("sync.test").info("after")
    assert ids.lines == ["after"]  # unbound once the task ended


def test_ids_come_from_the_task_arguments_by_name() -> None:
    assert base._task_ids(tasks.sync_account, (77,), {}) == {"account_id": 77}
    assert base._task_ids(tasks.sync_account, (), {"account_id": 77, "wellness": False}) == {"account_id": 77}
    assert base._task_ids(tasks.send_daily_email, (3, "2026-12-01T06:00:00+00:00"), {}) == {"athlete_id": 3}
    assert base._task_ids(tasks.dispatch_emails, (), {}) == {}


def test_backoff_is_capped_jittered_and_never_zero() -> None:
    for retries in range(12):
        full = min(base.MAX_RETRY_COUNTDOWN_S, base.RETRY_BACKOFF_S * 2**retries)
        for _ in range(50):
            wait = base.countdown_s(retries)
            assert full / 2 <= wait <= full and wait > 0
    assert 61 <= base.countdown_s(0, retry_after=60) <= 65  # a busy lock's lease, plus jitter
    assert base.countdown_s(0, retry_after=10_000) == base.MAX_RETRY_COUNTDOWN_S


def test_every_task_has_limits_under_the_visibility_timeout() -> None:
    settings = Settings()
    ours = [t for name, t in app.tasks.items() if name.startswith("worker.tasks.")]
    assert sorted(t.name.removeprefix("worker.tasks.") for t in ours) == [
        "compute_verdict",
        "dispatch_emails",
        "dispatch_pushes",
        "dispatch_syncs",
        "dispatch_verdicts",
        "push_workout",
        "send_daily_email",
        "send_pushes",
        "sync_account",
    ]
    for task in ours:
        assert isinstance(task, base.LegdayTask), task.name
        assert 0 < task.soft_time_limit < task.time_limit, task.name
        # A live task holds its message for its run time plus, at worst, a retry countdown.
        assert task.time_limit + base.MAX_RETRY_COUNTDOWN_S < settings.visibility_timeout_s, task.name


@app.task(bind=True, name="tests.flaky", retry_eagerly=False)
def _flaky(self, kind: str) -> str:  # noqa: ANN001
    if kind == "permanent":
        raise ConfigError("max HR below resting HR")
    raise TransientError("Garmin answered 503", retry_after=None)


def test_a_permanent_error_ends_the_task_and_an_eager_push_like_one_is_not_retried(ids: _Ids) -> None:
    assert _flaky.apply(args=["permanent"]).get() == "failed"
    assert any("max HR below resting HR; not retried" in line for line in ids.lines)
    # An in-process (eager) run of such a task is not retried: nobody would wait for the countdown.
    assert _flaky.apply(args=["transient"]).state == "IGNORED"
    assert any("Garmin answered 503; not retried in-process" in line for line in ids.lines)


@app.task(bind=True, name="tests.request")
def _request(self) -> list[object]:  # noqa: ANN001
    return [self.request.id, self.request.is_eager, self.request.retries]


def test_the_task_sees_its_own_request() -> None:
    """The base's wrapper must not hide the request Celery pushed (id, is_eager, retries)."""
    result = _request.apply()
    assert result.get() == [result.id, True, 0]
