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
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# The newest revision in sync/db/migrations/versions; tests/unit/test_startup.py checks it
# against Alembic's own head, so a new migration cannot be forgotten here.
HEAD_REVISION = "0015_push_due"


def alembic_config() -> Config:
    """Alembic config pointing at the packaged migrations, wherever the package is installed.

    The script location is set here, from this module's own path, rather than read from the
    ini: an installed wheel (site-packages, a Docker image, pipx) has no repository root and
    no working directory to resolve a relative path against. Alembic is imported only here.
    """
    from alembic.config import Config

    cfg = Config(str(ALEMBIC_INI)) if ALEMBIC_INI.is_file() else Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


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
    _run_alembic("upgrade", engine or engine_for((settings or get_settings()).sqlalchemy_url), revision)


def downgrade(settings: Settings | None = None, *, engine: Engine | None = None, revision: str) -> None:
    """Take the database schema back to `revision` (each newer migration's `downgrade()`)."""
    _run_alembic("downgrade", engine or engine_for((settings or get_settings()).sqlalchemy_url), revision)


def _run_alembic(step: str, engine: Engine, revision: str) -> None:
    """Run Alembic's `step` to `revision` in one transaction.

    On SQLite, foreign keys are off meanwhile: a batch migration rebuilds a table (copy, DROP,
    rename), and with them on, the DROP of `athlete` deletes every row that references it
    (ON DELETE CASCADE). SQLite ignores the pragma inside a transaction, so it is set before
    the transaction begins, and `foreign_key_check` proves nothing dangles before the commit.
    """
    from alembic import command

    cfg = alembic_config()
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                cfg.attributes["connection"] = connection
                getattr(command, step)(cfg, revision)
                if sqlite:
                    dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if dangling:
                        raise RuntimeError(f"migration left rows with broken references: {dangling[:5]}")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")  # the pooled connection's default
                connection.commit()


def ensure_head(settings: Settings | None = None, *, engine: Engine | None = None) -> None:
    """`upgrade` to head unless the schema is there already (then Alembic is not loaded)."""
    engine = engine or engine_for((settings or get_settings()).sqlalchemy_url)
    if not schema_at_head(engine):
        upgrade(engine=engine)
