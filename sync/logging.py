"""Log configuration: one line per record, carrying the ids of what is being worked on.

`log_context(athlete_id=..., task_id=...)` binds ids for the code running inside it (context
variables, so threads and tasks do not mix them up); every record then shows them. Secrets
never reach a record: the Garmin client drops the OAuth libraries' DEBUG output, and settings
keep tokens and passwords as SecretStr.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_ids: ContextVar[tuple[tuple[str, object], ...]] = ContextVar("legday_log_ids", default=())

FORMAT = "%(asctime)s %(levelname)s %(name)s%(ids)s: %(message)s"


@contextmanager
def log_context(**ids: object) -> Iterator[None]:
    """Attach `ids` (athlete_id, account_id, task_id...) to every record logged inside."""
    token = _ids.set(_ids.get() + tuple(ids.items()))
    try:
        yield
    finally:
        _ids.reset(token)


class ContextIdsFilter(logging.Filter):
    """Adds `record.ids`, e.g. " [athlete_id=3 task_id=ab12]", or "" outside any context."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = _ids.get()
        record.ids = " [" + " ".join(f"{k}={v}" for k, v in ids) + "]" if ids else ""
        return True


QUIET_LOGGERS = ("alembic.runtime.plugins",)


def configure_logging(level: str | int = "WARNING") -> None:
    """Send legday's records to stderr in one format (the CLI and the Celery worker call this)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(ContextIdsFilter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # Library chatter that tells an operator nothing at INFO: Alembic lists every plugin it sets
    # up before each migration. Its "Running upgrade a -> b" lines stay.
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
