"""raw_file.recording_key, unique per athlete (one recording is stored once, even under
races); activity indexes for the verdict's windows (its cost must not grow with the history)

Existing rows get the key from their first session (activity.session_index 0), computed as
`sync.ingest.importer.recording_key` does. Recordings stored twice before the key existed (two
imports of twin copies at once) are resolved deterministically: the raw file stored first
(lowest id) stays; the later copies' activities and strength sets are deleted and their
raw_file rows too (their bytes stay in the raw store), after a Garmin activity id only the
copy had is moved to the kept activity of the same session.

Revision ID: 0010_recording_key
Revises: 0006_invites
Create Date: 2026-12-01 23:50:00
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0010_recording_key"
down_revision = "0006_invites"
branch_labels = None
depends_on = None

raw_file = sa.table("raw_file", sa.column("id"), sa.column("athlete_id"), sa.column("recording_key"))
activity = sa.table(
    "activity",
    sa.column("id"),
    sa.column("raw_file_id"),
    sa.column("session_index"),
    sa.column("start_utc"),
    sa.column("sport"),
    sa.column("garmin_activity_id"),
)
strength_set = sa.table("strength_set", sa.column("activity_id"))


def _unix_seconds(value: object) -> int:
    """A stored start as Unix seconds: SQLite gives naive UTC text, PostgreSQL aware datetimes."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, datetime)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _backfill_and_resolve(bind: sa.Connection) -> None:
    firsts = bind.execute(
        sa.select(raw_file.c.id, raw_file.c.athlete_id, activity.c.start_utc, activity.c.sport)
        .join(activity, activity.c.raw_file_id == raw_file.c.id)
        .where(activity.c.session_index == 0)
        .order_by(raw_file.c.id)
    ).all()
    kept: dict[tuple[int, str], int] = {}  # (athlete, key) -> the raw file that stays
    later: dict[int, int] = {}  # a later copy -> the raw file kept instead
    keys: list[dict[str, object]] = []
    for raw_id, athlete_id, start, sport in firsts:  # one row per raw file (its session 0)
        key = f"{_unix_seconds(start)}/{sport}"
        winner = kept.setdefault((athlete_id, key), raw_id)
        if winner != raw_id:
            later[raw_id] = winner
        else:
            keys.append({"rid": raw_id, "k": key})
    if keys:
        bind.execute(
            sa.update(raw_file)
            .where(raw_file.c.id == sa.bindparam("rid"))
            .values(recording_key=sa.bindparam("k")),
            keys,
        )
    for copy_id, winner in later.items():
        copies = bind.execute(
            sa.select(activity.c.id, activity.c.session_index, activity.c.garmin_activity_id).where(
                activity.c.raw_file_id == copy_id
            )
        ).all()
        for _, session_index, garmin_id in copies:
            if garmin_id is not None:
                bind.execute(
                    sa.update(activity)
                    .where(
                        activity.c.raw_file_id == winner,
                        activity.c.session_index == session_index,
                        activity.c.garmin_activity_id.is_(None),
                    )
                    .values(garmin_activity_id=garmin_id)
                )
        ids = [row.id for row in copies]
        if ids:
            bind.execute(sa.delete(strength_set).where(strength_set.c.activity_id.in_(ids)))
            bind.execute(sa.delete(activity).where(activity.c.id.in_(ids)))
        bind.execute(sa.delete(raw_file).where(raw_file.c.id == copy_id))


def upgrade() -> None:
    with op.batch_alter_table("raw_file") as batch:
        batch.add_column(sa.Column("recording_key", sa.String(length=80), nullable=True))
    _backfill_and_resolve(op.get_bind())
    with op.batch_alter_table("raw_file") as batch:
        batch.create_unique_constraint(
            op.f("uq_raw_file_athlete_id_recording_key"), ["athlete_id", "recording_key"]
        )
    op.create_index("ix_activity_athlete_id_end_utc", "activity", ["athlete_id", "end_utc"])
    op.create_index(
        "ix_activity_athlete_id_sport_local_date", "activity", ["athlete_id", "sport", "local_date"]
    )


def downgrade() -> None:
    op.drop_index("ix_activity_athlete_id_sport_local_date", table_name="activity")
    op.drop_index("ix_activity_athlete_id_end_utc", table_name="activity")
    with op.batch_alter_table("raw_file") as batch:
        batch.drop_constraint(op.f("uq_raw_file_athlete_id_recording_key"), type_="unique")
        batch.drop_column("recording_key")
