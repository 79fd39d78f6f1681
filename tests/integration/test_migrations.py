"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command

from sync.config import Settings
from sync.db.migrate import alembic_config
from sync.db.session import engine_for


def test_models_and_migrations_agree(db_settings: Settings) -> None:
    cfg = alembic_config()
    with engine_for(db_settings.sqlalchemy_url).begin() as connection:
        cfg.attributes["connection"] = connection
        command.check(cfg)  # raises when an autogenerate diff would not be empty


def test_upgrade_is_repeatable(db_settings: Settings) -> None:
    from sync.db.migrate import upgrade

    upgrade(db_settings)  # already at head: a second run changes nothing and does not fail
    test_models_and_migrations_agree(db_settings)


def test_0010_keys_old_rows_and_keeps_the_first_of_twins_stored_twice(db_settings: Settings) -> None:
    """Twins stored twice before the key existed: the first stays, the copy goes, its Garmin id moves."""
    from datetime import UTC, date, datetime

    from sqlalchemy import MetaData, func, insert, select

    from sync.db.migrate import upgrade

    engine = engine_for(db_settings.sqlalchemy_url)
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0006_invites")  # the revision before 0010
    old = MetaData()
    old.reflect(engine)
    t = old.tables
    start = datetime(2026, 3, 10, 17, 0, 5, tzinfo=UTC)
    with engine.begin() as c:
        athlete = c.execute(
            insert(t["athlete"])
            .values(
                name="ana",
                timezone="UTC",
                send_time=datetime(2026, 1, 1, 6, 30).time(),
                sex="male",
                thresholds={},
                email_enabled=True,
                push_workouts=False,
                created_at=datetime.now(UTC),
            )
            .returning(t["athlete"].c.id)
        ).scalar_one()

        def raw(sha: str) -> int:
            return c.execute(
                insert(t["raw_file"])
                .values(
                    athlete_id=athlete,
                    sha256=sha,
                    size=1,
                    store_path=f"{sha[:2]}/{sha}.fit",
                    source="file",
                    original_name=f"{sha}.fit",
                    status="decoded",
                    crc_ok=True,
                    received_at=datetime.now(UTC),
                )
                .returning(t["raw_file"].c.id)
            ).scalar_one()

        def act(raw_id: int, sha: str, index: int, sport: str, garmin: int | None) -> int:
            return c.execute(
                insert(t["activity"])
                .values(
                    athlete_id=athlete,
                    source_id=f"{sha}/{index}",
                    raw_file_id=raw_id,
                    session_index=index,
                    sport=sport,
                    start_utc=start,
                    end_utc=start,
                    local_date=date(2026, 3, 10),
                    duration_s=60.0,
                    garmin_activity_id=garmin,
                )
                .returning(t["activity"].c.id)
            ).scalar_one()

        first, copy, other = raw("a" * 64), raw("b" * 64), raw("c" * 64)
        kept = act(first, "a" * 64, 0, "training", None)
        act(first, "a" * 64, 1, "running", None)
        gone = act(copy, "b" * 64, 0, "training", 4242)
        act(copy, "b" * 64, 1, "running", None)
        act(other, "c" * 64, 0, "running", None)  # same start, other sport: another recording
        c.execute(
            insert(t["strength_set"]).values(
                activity_id=gone,
                set_index=0,
                category="squat",
                category_guesses=[],
                set_type="active",
                muscle_groups=[],
                lower_body=1.0,
                source="fit",
            )
        )
    upgrade(db_settings)
    new = MetaData()
    new.reflect(engine)
    n = new.tables
    with engine.connect() as c:
        keys = dict(c.execute(select(n["raw_file"].c.id, n["raw_file"].c.recording_key)).all())
        assert keys == {
            first: f"{int(start.timestamp())}/training",
            other: f"{int(start.timestamp())}/running",
        }
        assert c.scalar(select(func.count()).select_from(n["activity"])) == 3
        assert c.scalar(select(func.count()).select_from(n["strength_set"])) == 0
        garmin = c.scalar(select(n["activity"].c.garmin_activity_id).where(n["activity"].c.id == kept))
        assert garmin == 4242
    test_models_and_migrations_agree(db_settings)


def test_0012_adds_hr_seconds_and_takes_it_away(db_settings: Settings) -> None:
    """Down to the revision before 0012 and up again: the column goes and comes back, empty
    for the rows that existed (they are filled by `legday reprocess` or lazily)."""
    from alembic.script import ScriptDirectory
    from sqlalchemy import inspect

    from sync.db.migrate import upgrade

    cfg = alembic_config()
    before = ScriptDirectory.from_config(cfg).get_revision("0012_hr_seconds").down_revision
    engine = engine_for(db_settings.sqlalchemy_url)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, str(before))
    assert "hr_seconds" not in {c["name"] for c in inspect(engine).get_columns("activity")}
    upgrade(db_settings)
    assert "hr_seconds" in {c["name"] for c in inspect(engine).get_columns("activity")}
    test_models_and_migrations_agree(db_settings)
