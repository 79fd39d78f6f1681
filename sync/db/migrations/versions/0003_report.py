"""report: look athlete report tokens up by their hash

Revision ID: 0003_report
Revises: 0002_email
Create Date: 2026-12-01 00:40:00
"""

from alembic import op

revision = "0003_report"
down_revision = "0002_email"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One token per athlete; the API finds the athlete from the token's hash in one indexed read.
    with op.batch_alter_table("athlete") as batch:
        batch.create_index("ix_athlete_report_token_hash", ["report_token_hash"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("athlete") as batch:
        batch.drop_index("ix_athlete_report_token_hash")
