"""Send a worker task by name (`sync` never imports `worker`): the producer side only."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=4)
def producer(broker_url: str) -> Any:  # noqa: ANN401 - a Celery app, imported lazily
    """A send-only Celery app on `broker_url` (JSON only, as the workers accept)."""
    from celery import Celery

    app = Celery("legday-producer", broker=broker_url)
    app.conf.update(task_serializer="json", accept_content=["json"], broker_connection_retry_on_startup=True)
    return app
