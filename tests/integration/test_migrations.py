"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command

from sync.config import Settings
from sync.db.migrate import alembic_config
from sync.db.session import engine_for


def test_models_and_migrations_agree(db_settings: Settings) -> None:
    cfg = alembic_config()
    with engine_for(db_settings.sqlalchemy_url).begin() as connection:
        cfg.attributes["connection"] = connection
        command.check(cfg)  # raises when an autogenerate diff would not be empty


def test_upgrade_is_repeatable(db_settings: Settings) -> None:
    from sync.db.migrate import upgrade

    upgrade(db_settings)  # already at head: a second run changes nothing and does not fail
    test_models_and_migrations_agree(db_settings)
