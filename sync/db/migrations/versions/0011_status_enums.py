"""Statuses become enums: a CHECK constraint on each status column (sync/db/statuses.py)

garmin_account.status, raw_file.status, email_delivery.status, pushed_workout.state and
sync_run.status may hold only their enum's members from here. Existing rows are normalised
first: surrounding blanks and capitals are dropped ("OK " -> "ok"), and a value that is still
unknown becomes the column's safe value (an account needs reconnecting, a raw file is
quarantined, a delivery is failed so it is never sent twice, a pushed workout is `unsure` so
the next push looks at the calendar before creating anything, a run is failed).

The allowed values are written out here (not imported), so a later change of the enums
needs a migration of its own.

Revision ID: 0011_status_enums
Revises: 0007_link_generation
Create Date: 2026-12-02 01:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_status_enums"
down_revision = "0012_hr_seconds"
branch_labels = None
depends_on = None

# table -> (column, allowed values, what an unknown value becomes)
CHECKS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "garmin_account": ("status", ("ok", "needs_reauth", "rate_limited"), "needs_reauth"),
    "raw_file": ("status", ("decoded", "quarantined"), "quarantined"),
    "email_delivery": (
        "status",
        ("pending", "claimed", "sending", "sent", "unconfirmed", "retry", "failed", "skipped"),
        "failed",
    ),
    "pushed_workout": (
        "state",
        ("pending", "creating", "unsure", "scheduled", "removed", "none"),
        "unsure",
    ),
    "sync_run": (
        "status",
        (
            "running",
            "ok",
            "partial",
            "quarantined",
            "rate_limited",
            "needs_reauth",
            "unavailable",
            "interrupted",
            "failed",
        ),
        "failed",
    ),
}


def _normalise(table: str, column: str, allowed: tuple[str, ...], fallback: str) -> None:
    t = sa.table(table, sa.column(column, sa.String))
    col = t.c[column]
    op.execute(sa.update(t).values({column: sa.func.lower(sa.func.trim(col))}).where(col.is_not(None)))
    op.execute(sa.update(t).values({column: fallback}).where(sa.or_(col.is_(None), col.not_in(allowed))))


def upgrade() -> None:
    for table, (column, allowed, fallback) in CHECKS.items():
        _normalise(table, column, allowed, fallback)
        values = ", ".join(f"'{v}'" for v in allowed)
        with op.batch_alter_table(table) as batch:
            batch.create_check_constraint(column, f"{column} IN ({values})")


def downgrade() -> None:
    for table, (column, _allowed, _fallback) in CHECKS.items():
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
