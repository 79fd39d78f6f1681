"""End to end through the CLI: import a real strength file, then ask about the next day."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from sync.config import Settings
from sync.db.models import Activity, SorenessReport, VerdictRecord
from sync.db.session import session_scope
from testkit.helpers import run_cli
from tests.conftest import require_shared


def _strength_day(settings: Settings) -> str:
    with session_scope(settings) as s:
        act = s.scalars(select(Activity).where(Activity.sport == "training")).one()
        return (act.local_date + timedelta(days=1)).isoformat()


def test_leg_day_gives_easy_next_morning(db_settings: Settings) -> None:
    corpus = require_shared("corpus/fit")
    assert run_cli("athlete", "add", "ana", "--timezone", "Europe/Helsinki").exit_code == 0
    imported = run_cli("import", corpus / "strength" / "fr965-strength-multisport-cycling-legs-01.fit")
    assert imported.exit_code == 0, imported.output
    day = _strength_day(db_settings)
    result = run_cli("today", "--date", day)
    assert result.exit_code == 0, result.output
    assert "EASY" in result.output and "hard leg sets" in result.output
    assert "LEG_DAY" not in result.output  # people read sentences, not codes
    with session_scope(db_settings) as s:
        row = s.scalars(select(VerdictRecord)).one()
    assert row.flag == "EASY" and "LEG_DAY" in row.codes
    assert row.payload["numbers"]["lb_sets"] >= 6
    assert row.payload["prescription"]["max_minutes"] == 30
    # Recomputing is an upsert, and a soreness of 8 turns it into REST.
    assert run_cli("soreness", "8", "--date", day).exit_code == 0
    assert "REST" in run_cli("today", "--date", day).output
    with session_scope(db_settings) as s:
        rows = s.scalars(select(VerdictRecord)).all()
        assert len(rows) == 1 and rows[0].flag == "REST" and "SORE_SEVERE" in rows[0].codes
        assert s.scalars(select(SorenessReport)).one().value == 8


def test_upper_body_day_gives_run(db_settings: Settings) -> None:
    corpus = require_shared("corpus/fit")
    assert run_cli("athlete", "add", "bo", "--timezone", "UTC").exit_code == 0
    assert run_cli("import", corpus / "strength" / "fr165-strength-upper-01.fit").exit_code == 0
    result = run_cli("today", "--date", _strength_day(db_settings))
    assert result.exit_code == 0, result.output
    assert "RUN" in result.output and "hard leg sets" not in result.output


def test_soreness_out_of_range_is_refused(db_settings: Settings) -> None:
    assert run_cli("athlete", "add", "cy", "--timezone", "UTC").exit_code == 0
    for bad, message in (("11", "less than or equal to 10"), ("-1", "greater than or equal to 0")):
        result = run_cli("soreness", bad)
        assert result.exit_code == 2
        assert message in result.output


def test_history_lists_verdicts_with_loads(db_settings: Settings) -> None:
    corpus = require_shared("corpus/fit")
    assert run_cli("athlete", "add", "dee", "--timezone", "UTC").exit_code == 0
    assert (
        run_cli("import", corpus / "strength" / "fr965-strength-multisport-cycling-legs-01.fit").exit_code
        == 0
    )
    day = _strength_day(db_settings)
    assert run_cli("today", "--date", day).exit_code == 0
    out = run_cli("history", "--days", "3", "--until", day)
    assert out.exit_code == 0, out.output
    assert day in out.output and "EASY" in out.output and "hard leg" in out.output
    assert "LEG_DAY" not in out.output


def test_verdict_json_from_scenario(settings: Settings) -> None:
    scenarios = require_shared("scenarios")
    out = run_cli("verdict", "--context", scenarios / "p08-barely-walk.json", "--json")
    doc = json.loads(out.output)
    assert doc["flag"] == "REST" and "SORE_SEVERE" in doc["codes"]


def test_tomorrow_is_the_next_local_day(db_settings: Settings) -> None:
    from datetime import timedelta

    from sync.scheduling import local_today

    assert run_cli("athlete", "add", "eli", "--timezone", "Pacific/Kiritimati").exit_code == 0  # UTC+14
    result = run_cli("tomorrow")
    assert result.exit_code == 0, result.output
    with session_scope(db_settings) as s:
        row = s.scalars(select(VerdictRecord)).one()
    assert row.date == local_today("Pacific/Kiritimati") + timedelta(days=1)
    assert row.flag == "RUN" and "strength" not in row.payload["unknown"]
