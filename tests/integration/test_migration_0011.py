"""0011_status_enums on SQLite and PostgreSQL, with rows in every checked table.

Down to the revision before it, rows with untidy and unknown statuses, up (they are
normalised and the CHECKs refuse anything else), down one step (the rows stay, the CHECKs go),
and up again.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import count

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, insert, select
from sqlalchemy.exc import IntegrityError

from sync.config import Settings
from sync.db.migrate import alembic_config, downgrade, upgrade
from sync.db.session import engine_for
from sync.db.statuses import AccountStatus, DeliveryStatus, PushState, RawFileStatus, SyncRunStatus

REVISION = "0011_status_enums"
_NAMES = count()
NOW = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)


def _to(engine: Engine, revision: str) -> None:
    # legday's own entry point: on SQLite it turns foreign keys off around the batch rebuilds
    # (a later migration's downgrade rebuilds `athlete`, whose DROP would cascade otherwise).
    downgrade(engine=engine, revision=revision)


def _before() -> str:
    down = ScriptDirectory.from_config(alembic_config()).get_revision(REVISION).down_revision
    assert isinstance(down, str)
    return down


def _tables(engine: Engine) -> dict:
    meta = MetaData()
    meta.reflect(engine)
    return meta.tables


def _rows(engine: Engine, statuses: dict[str, str]) -> None:
    """One athlete and one row per checked table, with the given raw statuses."""
    t = _tables(engine)
    with engine.begin() as c:
        athlete = c.execute(
            insert(t["athlete"])
            .values(
                name=f"athlete-{next(_NAMES)}",
                timezone="UTC",
                send_time=NOW.time(),
                sex="male",
                thresholds={},
                email_enabled=True,
                push_workouts=False,
                created_at=NOW,
            )
            .returning(t["athlete"].c.id)
        ).scalar_one()
        c.execute(
            insert(t["garmin_account"]).values(
                athlete_id=athlete,
                token_kind="di",
                tokens_encrypted=b"x",
                status=statuses["garmin_account"],
                backoff_s=0.0,
            )
        )
        c.execute(
            insert(t["raw_file"]).values(
                athlete_id=athlete,
                sha256=f"{athlete:064d}",
                size=1,
                store_path="a/b.fit",
                source="file",
                status=statuses["raw_file"],
                crc_ok=True,
                received_at=NOW,
            )
        )
        c.execute(
            insert(t["email_delivery"]).values(
                athlete_id=athlete,
                date=date(2026, 3, 10),
                status=statuses["email_delivery"],
                attempts=1,
                updated_at=NOW,
                kind="daily",
            )
        )
        c.execute(
            insert(t["pushed_workout"]).values(
                athlete_id=athlete,
                date=date(2026, 3, 10),
                state=statuses["pushed_workout"],
                plan={},
                attempts=0,
                updated_at=NOW,
            )
        )
        c.execute(
            insert(t["sync_run"]).values(
                athlete_id=athlete,
                kind="sync",
                started_at=NOW,
                status=statuses["sync_run"],
                requests=0,
                summary={},
            )
        )


def _statuses(engine: Engine) -> dict[str, list[str]]:
    t = _tables(engine)
    columns = {
        "garmin_account": "status",
        "raw_file": "status",
        "email_delivery": "status",
        "pushed_workout": "state",
        "sync_run": "status",
    }
    with engine.connect() as c:
        return {
            name: sorted(c.scalars(select(t[name].c[column])))  # type: ignore[arg-type]
            for name, column in columns.items()
        }


UNTIDY = {
    "garmin_account": "Rate_Limited ",
    "raw_file": " DECODED",
    "email_delivery": "Sent",
    "pushed_workout": "SCHEDULED",
    "sync_run": "OK",
}
UNKNOWN = {
    "garmin_account": "locked",
    "raw_file": "half",
    "email_delivery": "queued",
    "pushed_workout": "maybe",
    "sync_run": "done",
}


def test_0011_normalises_rows_checks_and_goes_down_and_up(db_settings: Settings) -> None:
    engine = engine_for(db_settings.sqlalchemy_url)
    _to(engine, _before())
    _rows(engine, UNTIDY)
    _rows(engine, UNKNOWN)
    upgrade(db_settings)
    assert _statuses(engine) == {
        "garmin_account": sorted([AccountStatus.RATE_LIMITED, AccountStatus.NEEDS_REAUTH]),
        "raw_file": sorted([RawFileStatus.DECODED, RawFileStatus.QUARANTINED]),
        "email_delivery": sorted([DeliveryStatus.SENT, DeliveryStatus.FAILED]),
        "pushed_workout": sorted([PushState.SCHEDULED, PushState.UNSURE]),
        "sync_run": sorted([SyncRunStatus.OK, SyncRunStatus.FAILED]),
    }
    # Every checked column now refuses a value outside its enum (and takes its members).
    good = {
        "garmin_account": AccountStatus.OK,
        "raw_file": RawFileStatus.DECODED,
        "email_delivery": DeliveryStatus.SENT,
        "pushed_workout": PushState.NONE,
        "sync_run": SyncRunStatus.OK,
    }
    for table in good:
        with pytest.raises(IntegrityError, match=f"ck_{table}_"):
            _rows(engine, {**good, table: "bogus"})
    _rows(engine, good)

    _to(engine, _before())  # down one step: the rows stay, any value is accepted again
    assert _statuses(engine)["sync_run"] == ["failed", "ok", "ok"]
    _rows(engine, UNKNOWN)
    upgrade(db_settings)  # and up again: the new unknown rows are normalised too
    assert _statuses(engine)["email_delivery"] == ["failed", "failed", "sent", "sent"]
    assert _statuses(engine)["pushed_workout"] == ["none", "scheduled", "unsure", "unsure"]


def test_each_check_allows_exactly_its_enums_members(db_settings: Settings) -> None:
    """The migrated database's CHECKs and sync/db/statuses.py name the same values."""
    import re

    from sqlalchemy import inspect

    from sync.db.statuses import CHECKED

    inspector = inspect(engine_for(db_settings.sqlalchemy_url))
    for table, column, enum, _fallback in CHECKED:
        checks = {c["name"]: c["sqltext"] for c in inspector.get_check_constraints(table)}
        text = checks[f"ck_{table}_{column}"]
        assert set(re.findall(r"'([a-z_]+)'", text)) == {m.value for m in enum}, (table, text)
