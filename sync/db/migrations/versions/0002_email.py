"""email delivery: kind, error, next attempt, sent at

Revision ID: 0002_email
Revises: 0001
Create Date: 2026-12-01 00:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_email"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("email_delivery") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), server_default="daily", nullable=False))
        batch.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("email_delivery") as batch:
        batch.drop_column("sent_at")
        batch.drop_column("next_attempt_at")
        batch.drop_column("error")
        batch.drop_column("kind")
