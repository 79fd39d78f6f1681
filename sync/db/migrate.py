"""`legday db upgrade`: run Alembic migrations programmatically."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from sync.config import Settings, get_settings
from sync.db.session import engine_for

ALEMBIC_INI = Path(__file__).with_name("alembic.ini")


def alembic_config() -> Config:
    """Alembic config pointing at the packaged migrations."""
    return Config(str(ALEMBIC_INI))


def upgrade(
    settings: Settings | None = None, *, engine: Engine | None = None, revision: str = "head"
) -> None:
    """Bring the database schema to `revision` (default: the newest)."""
    engine = engine or engine_for((settings or get_settings()).sqlalchemy_url)
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
