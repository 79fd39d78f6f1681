"""onboarding invites (one row per used invite link) and a backfilled credential_ends_at

Revision ID: 0006_invites
Revises: 0005_personal_api
Create Date: 2026-12-02 00:00:00
"""

import logging
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006_invites"
down_revision = "0005_personal_api"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)


def _backfill_credential_ends() -> None:
    """Fill credential_ends_at of existing garth / DI accounts from their tokens, where the
    token key is at hand; the rest is filled by the next sync (sync.garmin_sync.run)."""
    from sync.config import get_settings
    from sync.errors import ConfigError
    from sync.garmin import crypto
    from sync.garmin.lifetime import credential_end
    from sync.garmin.tokens import from_json

    settings = get_settings()
    try:
        crypto.resolve_key(settings, create=False)
    except ConfigError:
        return
    table = sa.table(
        "garmin_account",
        sa.column("id", sa.Integer),
        sa.column("token_kind", sa.String),
        sa.column("tokens_encrypted", sa.LargeBinary),
        sa.column("credential_ends_at", sa.DateTime(timezone=True)),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(table.c.id, table.c.token_kind, table.c.tokens_encrypted).where(
            table.c.credential_ends_at.is_(None)
        )
    ).all()
    now = datetime.now(UTC)
    for account_id, kind, blob in rows:
        try:
            ends = credential_end(from_json(kind, crypto.decrypt(settings, blob)), now)
        except Exception:  # noqa: BLE001 - another key, a damaged row: left to the next sync
            log.info("credential end of account %s not computable here", account_id)
            continue
        if ends is None:
            continue
        value = ends.replace(tzinfo=None) if bind.dialect.name == "sqlite" else ends
        bind.execute(sa.update(table).where(table.c.id == account_id).values(credential_ends_at=value))


def upgrade() -> None:
    op.create_table(
        "invite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("athlete_id", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["athlete_id"], ["athlete.id"], name=op.f("fk_invite_athlete_id_athlete"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invite")),
        sa.UniqueConstraint("nonce", name=op.f("uq_invite_nonce")),
    )
    op.create_index(op.f("ix_invite_athlete_id"), "invite", ["athlete_id"], unique=False)
    _backfill_credential_ends()


def downgrade() -> None:
    op.drop_index(op.f("ix_invite_athlete_id"), table_name="invite")
    op.drop_table("invite")
