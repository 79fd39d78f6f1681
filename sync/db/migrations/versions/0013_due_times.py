"""Due times: dispatchers select what is due by an index, never every row (issue 20)

garmin_account gains `next_sync_at` (indexed) and `next_wellness_at`; athlete gains
`next_send_at` and `next_rollover_at` (both indexed); `verdict_mark` holds the athlete-days
whose verdict must be computed. Existing rows are made due at once (2000-01-01 UTC): the first
tick after the upgrade looks at each of them once and sets its real next moment, and an account
that needs re-auth gets no next sync until new tokens come.

Revision ID: 0013_due_times
Revises: 0011_status_enums
Create Date: 2026-12-02 05:00:00
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0013_due_times"
down_revision = "0011_status_enums"
branch_labels = None
depends_on = None

AT_ONCE = datetime(2000, 1, 1, tzinfo=UTC)  # written out (not imported): models may change


def _when(dialect: str) -> datetime:
    return AT_ONCE.replace(tzinfo=None) if dialect == "sqlite" else AT_ONCE


def upgrade() -> None:
    at_once = _when(op.get_bind().dialect.name)
    with op.batch_alter_table("garmin_account") as batch:
        batch.add_column(sa.Column("next_sync_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("next_wellness_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(batch.f("ix_garmin_account_next_sync_at"), ["next_sync_at"], unique=False)
    with op.batch_alter_table("athlete") as batch:
        batch.add_column(sa.Column("next_send_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("next_rollover_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(batch.f("ix_athlete_next_send_at"), ["next_send_at"], unique=False)
        batch.create_index(batch.f("ix_athlete_next_rollover_at"), ["next_rollover_at"], unique=False)
    account = sa.table(
        "garmin_account",
        sa.column("status", sa.String),
        sa.column("next_sync_at", sa.DateTime),
        sa.column("next_wellness_at", sa.DateTime),
    )
    op.execute(
        sa.update(account)
        .where(account.c.status != "needs_reauth")
        .values(next_sync_at=at_once, next_wellness_at=at_once)
    )
    athlete = sa.table(
        "athlete", sa.column("next_send_at", sa.DateTime), sa.column("next_rollover_at", sa.DateTime)
    )
    op.execute(sa.update(athlete).values(next_send_at=at_once, next_rollover_at=at_once))
    op.create_table(
        "verdict_mark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("athlete_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["athlete_id"],
            ["athlete.id"],
            name=op.f("fk_verdict_mark_athlete_id_athlete"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verdict_mark")),
        sa.UniqueConstraint("athlete_id", "date", name=op.f("uq_verdict_mark_athlete_id_date")),
    )
    with op.batch_alter_table("verdict_mark") as batch:
        batch.create_index(batch.f("ix_verdict_mark_due_at"), ["due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("verdict_mark") as batch:
        batch.drop_index(batch.f("ix_verdict_mark_due_at"))
    op.drop_table("verdict_mark")
    with op.batch_alter_table("athlete") as batch:
        batch.drop_index(batch.f("ix_athlete_next_rollover_at"))
        batch.drop_index(batch.f("ix_athlete_next_send_at"))
        batch.drop_column("next_rollover_at")
        batch.drop_column("next_send_at")
    with op.batch_alter_table("garmin_account") as batch:
        batch.drop_index(batch.f("ix_garmin_account_next_sync_at"))
        batch.drop_column("next_wellness_at")
        batch.drop_column("next_sync_at")
