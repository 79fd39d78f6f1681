"""activity.hr_seconds: seconds spent at each heart rate, what TRIMP is computed from

The decoder no longer takes the athlete (issue 19 item 6): each session's heart-rate
histogram is stored, so a change of max or resting HR recomputes `activity.trimp` from it
without decoding the file again. Existing rows keep their TRIMP and get NULL here; they are
filled by `legday reprocess`, or lazily, from the raw store, the first time the athlete's
HR profile changes (`sync.ingest.load.recompute_trimp`). A migration does not decode FIT
files: that needs the raw store and the decoder, neither of which belongs in a migration.

Revision ID: 0012_hr_seconds
Revises: 0007_link_generation
Create Date: 2026-12-02 01:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_hr_seconds"
down_revision = "0007_link_generation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("activity") as batch:
        batch.add_column(sa.Column("hr_seconds", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("activity") as batch:
        batch.drop_column("hr_seconds")
