"""`/healthz`: is the database reachable, and Redis when configured?"""

from __future__ import annotations

import redis
from sqlalchemy import text

from sync.config import Settings
from sync.db.session import engine_for


def check_database(settings: Settings) -> str:
    """ "ok", or the kind of error (never the URL, which may carry a password)."""
    try:
        with engine_for(settings.sqlalchemy_url).connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        return f"down ({type(exc).__name__})"
    return "ok"


def check_redis(settings: Settings) -> str:
    """ "ok", "not configured", or the kind of error."""
    if not settings.redis_url:
        return "not configured"
    try:
        client = redis.Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001
        return f"down ({type(exc).__name__})"
    return "ok"


def health(settings: Settings) -> tuple[bool, dict[str, object]]:
    """(healthy, the JSON body)."""
    checks = {"database": check_database(settings), "redis": check_redis(settings)}
    healthy = all(v in ("ok", "not configured") for v in checks.values())
    return healthy, {"status": "ok" if healthy else "down", "checks": checks}
