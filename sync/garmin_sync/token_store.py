"""Refreshed Garmin tokens are saved on a connection of their own, not in the run's session.

DI refresh tokens rotate (the old one dies), so a refresh must reach the database even if the
rest of the run fails later, and saving it must not commit the run's half-done window. So the
new tokens are written by a short transaction on a second connection of the same engine.

That connection can only write when the run's own session does not hold the lock it needs:
on SQLite the run's uncommitted writes hold the database's write lock, on PostgreSQL an
uncommitted change of the account row holds that row; and an account added in the run's own
transaction is not there yet for another connection. Then (and only then) the tokens are set
on the run's account and the run's checkpoint keeps them, as a documented exception of the
transaction rule (sync/db/tx.py): waiting would deadlock the run against itself.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from sync.db.models import GarminAccount
from sync.db.tx import Checkpoint

log = logging.getLogger(__name__)

LOCK_WAIT_MS = 2000  # PostgreSQL: how long the own connection waits for the account row


def _holds_sqlite_write(session: Session) -> bool:
    """True when `session` has an open SQLite write transaction (the database's write lock)."""
    if session.get_bind().dialect.name != "sqlite" or not session.in_transaction():
        return False
    dbapi = session.connection().connection.dbapi_connection
    return bool(getattr(dbapi, "in_transaction", False))


def _write_own_connection(session: Session, account_id: int, sealed: bytes, ends_at: datetime | None) -> bool:
    """UPDATE the account's tokens in a transaction of its own; False when the row is locked."""
    if _holds_sqlite_write(session):
        return False
    engine = session.get_bind().engine
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_WAIT_MS}ms'")
            done = conn.execute(
                update(GarminAccount)
                .where(GarminAccount.id == account_id)
                .values(tokens_encrypted=sealed, credential_ends_at=ends_at)
            ).rowcount
    except OperationalError:  # lock_timeout / database is locked: the run holds it
        return False
    # 0 rows: the account is not committed yet (added in the run's own transaction).
    return done == 1


def save_tokens(
    session: Session,
    account: GarminAccount,
    sealed: bytes,
    ends_at: datetime | None,
    checkpoint: Checkpoint,
) -> str:
    """Persist refreshed tokens at once; returns how: `own-connection` or `checkpoint`."""
    if _write_own_connection(session, account.id, sealed, ends_at):
        # Stored already: the run's session must not see them as changes of its own.
        set_committed_value(account, "tokens_encrypted", sealed)
        set_committed_value(account, "credential_ends_at", ends_at)
        return "own-connection"
    account.tokens_encrypted = sealed
    account.credential_ends_at = ends_at
    checkpoint()
    return "checkpoint"
