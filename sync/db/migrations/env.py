"""Alembic environment: the URL comes from the caller's connection or legday's settings."""

from __future__ import annotations

from alembic import context

from sync.config import get_settings
from sync.db.models import Base
from sync.db.session import make_engine

target_metadata = Base.metadata


def run_migrations() -> None:
    """Run migrations on a connection handed over by `upgrade()`, or on the configured URL."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(get_settings().sqlalchemy_url)
    with engine.begin() as conn:
        _run(conn)


def _run(connection) -> None:  # noqa: ANN001 - an SQLAlchemy Connection
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTER needs batch mode
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
