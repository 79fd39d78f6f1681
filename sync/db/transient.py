"""Which database errors may pass if the same work is tried again (a blip, not a bug)."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout


def is_transient(exc: BaseException) -> bool:
    """True for a lost or refused connection, a locked SQLite file, a pool timeout.

    These say nothing about the data: the database restarted, failed over, had its backends
    terminated, or another writer held it too long. Anything else (a constraint, a bug) is not.
    """
    if isinstance(exc, OperationalError | InterfaceError | DisconnectionError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def reason(exc: BaseException) -> str:
    """One short line naming a database error: the driver's class and its first line."""
    orig = getattr(exc, "orig", None) or exc
    first = (str(orig).strip().splitlines() or [""])[0]
    return f"{type(orig).__name__}: {first}"[:200]
