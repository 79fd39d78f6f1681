"""workouts pushed to Garmin: athlete opt-in and the pushed_workout table

Revision ID: 0004_workouts
Revises: 0003_report
Create Date: 2026-12-01 01:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_workouts"
down_revision = "0003_report"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("athlete") as batch:
        batch.add_column(sa.Column("push_workouts", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "pushed_workout",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("athlete_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("flag", sa.String(length=8), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=True),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("garmin_workout_id", sa.BigInteger(), nullable=True),
        sa.Column("garmin_schedule_id", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["athlete_id"],
            ["athlete.id"],
            name=op.f("fk_pushed_workout_athlete_id_athlete"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pushed_workout")),
        sa.UniqueConstraint("athlete_id", "date", name=op.f("uq_pushed_workout_athlete_id_date")),
    )


def downgrade() -> None:
    op.drop_table("pushed_workout")
    with op.batch_alter_table("athlete") as batch:
        batch.drop_column("push_workouts")
