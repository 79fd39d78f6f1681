"""`legday db upgrade`: run Alembic migrations programmatically."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from sync.config import Settings, get_settings
from sync.db.session import engine_for

ALEMBIC_INI = Path(__file__).with_name("alembic.ini")
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    """Alembic config pointing at the packaged migrations, wherever the package is installed.

    The script location is set here, from this module's own path, rather than read from the
    ini: an installed wheel (site-packages, a Docker image, pipx) has no repository root and
    no working directory to resolve a relative path against.
    """
    cfg = Config(str(ALEMBIC_INI)) if ALEMBIC_INI.is_file() else Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def upgrade(
    settings: Settings | None = None, *, engine: Engine | None = None, revision: str = "head"
) -> None:
    """Bring the database schema to `revision` (default: the newest)."""
    engine = engine or engine_for((settings or get_settings()).sqlalchemy_url)
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
