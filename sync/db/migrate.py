"""`legday db upgrade`: run Alembic migrations programmatically.

Alembic is imported only when a migration has to run: `schema_at_head` answers the everyday
question (is this database current?) with one SQL query, so commands on an up-to-date
database never load it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from sync.config import Settings, get_settings
from sync.db.session import engine_for

if TYPE_CHECKING:
    from alembic.config import Config

ALEMBIC_INI = Path(__file__).with_name("alembic.ini")
# The newest revision in sync/db/migrations/versions; tests/unit/test_startup.py checks it
# against Alembic's own head, so a new migration cannot be forgotten here.
HEAD_REVISION = "0002_email"


def alembic_config() -> Config:
    """Alembic config pointing at the packaged migrations."""
    from alembic.config import Config

    return Config(str(ALEMBIC_INI))


def schema_at_head(engine: Engine) -> bool:
    """True when the database's alembic_version row is `HEAD_REVISION` (no Alembic import)."""
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except DBAPIError:  # no alembic_version table yet: a new database
        return False
    return rows == [HEAD_REVISION]


def upgrade(
    settings: Settings | None = None, *, engine: Engine | None = None, revision: str = "head"
) -> None:
    """Bring the database schema to `revision` (default: the newest)."""
    from alembic import command

    engine = engine or engine_for((settings or get_settings()).sqlalchemy_url)
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def ensure_head(settings: Settings | None = None, *, engine: Engine | None = None) -> None:
    """`upgrade` to head unless the schema is there already (then Alembic is not loaded)."""
    engine = engine or engine_for((settings or get_settings()).sqlalchemy_url)
    if not schema_at_head(engine):
        upgrade(engine=engine)
