"""push notification channels, their deliveries, and the day's announced verdict (issue 23)

- `notify_channel`: an athlete's Apprise URLs, Fernet-encrypted (the Garmin tokens' key), with
  a status (active / paused after 3 failing days in a row).
- `channel_delivery`: one row per (channel, date, kind) inserted before a push message is sent:
  the exactly-once claim of sync/notify/claims.py, as `email_delivery` is for the email.
- `announced_verdict`: the day's verdict as the first morning message told it, kept so that a
  later change is shown as an update rather than silently replacing it.

New tables only: the downgrade drops them (their rows go with them: channels would have to be
added again after an upgrade).

Revision ID: 0014_channels
Revises: 0013_due_times
Create Date: 2026-12-03 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_channels"
down_revision = "0013_due_times"
branch_labels = None
depends_on = None

# Written out (not imported from sync/db/statuses.py): a later change of the enums needs a
# migration of its own.
CHANNEL_STATUSES = ("active", "paused")
DELIVERY_STATUSES = ("pending", "claimed", "sending", "sent", "unconfirmed", "retry", "failed", "skipped")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _fk(table: str, column: str, parent: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{parent}.id", ondelete="CASCADE", name=op.f(f"fk_{table}_{column}_{parent}"))


def upgrade() -> None:
    op.create_table(
        "notify_channel",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "athlete_id",
            sa.Integer(),
            _fk("notify_channel", "athlete_id", "athlete"),
            nullable=False,
        ),
        sa.Column("url_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(_in("status", CHANNEL_STATUSES), name=op.f("ck_notify_channel_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_channel")),
    )
    op.create_index(op.f("ix_notify_channel_athlete_id"), "notify_channel", ["athlete_id"])
    op.create_table(
        "channel_delivery",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "athlete_id",
            sa.Integer(),
            _fk("channel_delivery", "athlete_id", "athlete"),
            nullable=False,
        ),
        sa.Column(
            "channel_id",
            sa.Integer(),
            _fk("channel_delivery", "channel_id", "notify_channel"),
            nullable=False,
        ),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("flag", sa.String(8), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(_in("status", DELIVERY_STATUSES), name=op.f("ck_channel_delivery_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_delivery")),
        sa.UniqueConstraint(
            "channel_id", "date", "kind", name=op.f("uq_channel_delivery_channel_id_date_kind")
        ),
    )
    op.create_index(op.f("ix_channel_delivery_athlete_id_date"), "channel_delivery", ["athlete_id", "date"])
    op.create_table(
        "announced_verdict",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "athlete_id",
            sa.Integer(),
            _fk("announced_verdict", "athlete_id", "athlete"),
            nullable=False,
        ),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("flag", sa.String(8), nullable=False),
        sa.Column("model_version", sa.String(16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announced_verdict")),
        sa.UniqueConstraint("athlete_id", "date", name=op.f("uq_announced_verdict_athlete_id_date")),
    )


def downgrade() -> None:
    op.drop_table("announced_verdict")
    op.drop_index(op.f("ix_channel_delivery_athlete_id_date"), table_name="channel_delivery")
    op.drop_table("channel_delivery")
    op.drop_index(op.f("ix_notify_channel_athlete_id"), table_name="notify_channel")
    op.drop_table("notify_channel")
