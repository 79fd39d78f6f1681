"""Garmin's Personal API: a wider token_kind (personal_api | di | garth) and credential_ends_at

Revision ID: 0005_personal_api
Revises: 0004_workouts
Create Date: 2026-12-01 23:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_personal_api"
down_revision = "0004_workouts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing rows keep their kind (garth | di); "personal_api" needs more than 8 characters.
    with op.batch_alter_table("garmin_account") as batch:
        batch.alter_column(
            "token_kind",
            existing_type=sa.String(length=8),
            type_=sa.String(length=16),
            existing_nullable=False,
        )
        batch.add_column(sa.Column("credential_ends_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("garmin_account") as batch:
        batch.drop_column("credential_ends_at")
        batch.alter_column(
            "token_kind",
            existing_type=sa.String(length=16),
            type_=sa.String(length=8),
            existing_nullable=False,
        )
