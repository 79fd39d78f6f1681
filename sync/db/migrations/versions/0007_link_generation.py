"""report links: a link generation per athlete, bumped by `legday token revoke`

Revision ID: 0007_link_generation
Revises: 0010_recording_key
Create Date: 2026-12-02 00:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_link_generation"
down_revision = "0010_recording_key"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every signed link carries the generation it was issued under; revoking bumps it, so every
    # earlier link stops working. Existing athletes start at 0, as do links without one.
    with op.batch_alter_table("athlete") as batch:
        batch.add_column(sa.Column("link_generation", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("athlete") as batch:
        batch.drop_column("link_generation")
