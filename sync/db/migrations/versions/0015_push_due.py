"""push channels' next due moment (issue 20): the push dispatcher claims due rows, O(due)

- `notify_channel.next_push_at` (indexed): the next moment the channel may have a message to
  send (its athlete's next send time, a retry's backoff, or "at once" after the day's verdict
  changed once its morning message went out). NULL for a paused channel: never due.

Existing active channels are due at once: the first tick after the upgrade looks at each and
stores its real moment. The downgrade drops the column (the old dispatcher scans every channel).

Revision ID: 0015_push_due
Revises: 0014_channels
Create Date: 2026-12-02 13:45:00
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0015_push_due"
down_revision = "0014_channels"
branch_labels = None
depends_on = None

# sync.db.models.DUE_AT_ONCE, written out: a migration does not import the models it predates.
DUE_AT_ONCE = datetime(2000, 1, 1, tzinfo=UTC)


def upgrade() -> None:
    with op.batch_alter_table("notify_channel") as batch:
        batch.add_column(sa.Column("next_push_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(batch.f("ix_notify_channel_next_push_at"), ["next_push_at"], unique=False)
    channel = sa.table(
        "notify_channel", sa.column("status", sa.String), sa.column("next_push_at", sa.DateTime)
    )
    # SQLite keeps naive UTC (sync.db.models.UTCDateTime); PostgreSQL an aware timestamp.
    at_once = DUE_AT_ONCE.replace(tzinfo=None) if op.get_bind().dialect.name == "sqlite" else DUE_AT_ONCE
    op.execute(sa.update(channel).where(channel.c.status == "active").values(next_push_at=at_once))


def downgrade() -> None:
    with op.batch_alter_table("notify_channel") as batch:
        batch.drop_index(batch.f("ix_notify_channel_next_push_at"))
        batch.drop_column("next_push_at")
