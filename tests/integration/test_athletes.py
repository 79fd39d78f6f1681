"""Athlete commands and validation, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from sync.athletes import add_athlete, resolve_athlete, update_athlete
from sync.config import Settings
from sync.errors import ConfigError, NotFoundError
from testkit.factories import make_activity
from testkit.helpers import run_cli


def test_add_and_resolve(db_session: Session) -> None:
    a = add_athlete(
        db_session,
        "ana",
        email="ana@example.org",
        timezone="Europe/Berlin",
        sex="female",
        max_hr=188,
        rest_hr=48,
    )
    assert resolve_athlete(db_session, None).id == a.id
    add_athlete(db_session, "bo", email=None, timezone="Australia/Sydney")
    with pytest.raises(NotFoundError, match="--athlete"):
        resolve_athlete(db_session, None)
    assert resolve_athlete(db_session, "bo").timezone == "Australia/Sydney"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown timezone"),
        ({"timezone": "UTC", "max_hr": 110, "rest_hr": 115}, "must be above resting HR"),
        ({"timezone": "UTC", "max_hr": 400}, "out of range"),
        ({"timezone": "UTC", "sex": "robot"}, "sex must be"),
    ],
)
def test_bad_values_refused(db_session: Session, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        add_athlete(db_session, "x", email=None, **kwargs)


def test_update_checks_combined_values(db_session: Session) -> None:
    a = add_athlete(db_session, "cy", email=None, timezone="UTC", max_hr=110, rest_hr=50)
    with pytest.raises(ConfigError, match="must be above"):
        update_athlete(db_session, a, rest_hr=115)
    update_athlete(db_session, a, send_time="07:15", timezone="America/New_York")
    assert a.send_time.strftime("%H:%M") == "07:15"


def test_cli_athlete_lifecycle(db_settings: Settings) -> None:
    result = run_cli("athlete", "add", "dee", "--timezone", "Europe/Paris", "--email", "d@example.org")
    assert result.exit_code == 0, result.output
    bad = run_cli("athlete", "add", "eve", "--timezone", "Nowhere/City")
    assert bad.exit_code == 2
    assert "unknown timezone" in bad.output
    assert run_cli("athlete", "set", "dee", "--max-hr", "185", "--rest-hr", "45").exit_code == 0
    listing = run_cli("athlete", "list")
    assert "dee" in listing.output and "185" in listing.output and "eve" not in listing.output


def test_threshold_overrides_are_validated_and_stored(db_settings: Settings) -> None:
    from sync.db.models import Athlete
    from sync.db.session import session_scope

    assert run_cli("athlete", "add", "fay", "--timezone", "UTC").exit_code == 0
    bad = run_cli("athlete", "set", "fay", "-t", "lb_sets=-3")
    assert bad.exit_code == 2 and "lb_sets" in bad.output
    unknown = run_cli("athlete", "set", "fay", "-t", "no_such=1")
    assert unknown.exit_code == 2 and "unknown threshold" in unknown.output
    assert run_cli("athlete", "set", "fay", "-t", "lb_sets=8", "-t", "sleep_short_h=6.5").exit_code == 0
    with session_scope(db_settings) as s:
        assert s.query(Athlete).one().thresholds == {"lb_sets": 8, "sleep_short_h": 6.5}
    assert run_cli("athlete", "set", "fay", "--reset-thresholds").exit_code == 0
    with session_scope(db_settings) as s:
        assert s.query(Athlete).one().thresholds == {}


def test_deployment_thresholds_apply_before_the_athletes(db_session: Session, monkeypatch) -> None:  # noqa: ANN001
    from sync.config import get_settings
    from sync.verdicts.thresholds import thresholds_for

    monkeypatch.setenv("LEGDAY_THRESHOLDS", '{"lb_sets": 8, "sleep_short_h": 7}')
    get_settings.cache_clear()
    a = add_athlete(db_session, "gus", email=None, timezone="UTC")
    a.thresholds = {"lb_sets": 10}
    t = thresholds_for(a)
    assert (t.lb_sets, t.sleep_short_h) == (10, 7)


def test_moving_time_zone_recomputes_local_dates(db_session: Session) -> None:
    from datetime import UTC, date, datetime

    a = add_athlete(db_session, "hal", email=None, timezone="Europe/London")
    start = datetime(2026, 3, 10, 22, 30, tzinfo=UTC)  # 22:30 in London, 09:30 next day in Sydney
    act = make_activity(db_session, a, start, local_date=date(2026, 3, 10))
    update_athlete(db_session, a, timezone="Australia/Sydney")
    assert act.local_date == date(2026, 3, 11)
