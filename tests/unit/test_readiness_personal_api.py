"""The model is told, through its context, that the data comes from Garmin's Personal API."""

from __future__ import annotations

from datetime import UTC, datetime

from sync.readiness import DayContext, evaluate

NOW = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)


def _not_known(ctx: DayContext) -> str:
    return next(n for n in evaluate(ctx).to_json_dict()["notes"] if n.startswith("Not known"))


def test_the_personal_api_is_named_for_what_it_does_not_offer() -> None:
    connect = DayContext(now=NOW, strength=[])
    personal = DayContext(now=NOW, strength=[], garmin_personal_api=True)
    assert "garmin_sets" not in evaluate(connect).unknown
    assert "Garmin recovery time" in _not_known(connect) and "Personal API" not in _not_known(connect)
    line = _not_known(personal)
    assert "Garmin readiness and recovery time (not available on Garmin's Personal API)" in line
    assert "Garmin-edited exercise sets (not available on the Personal API: the sets your watch" in line
    assert evaluate(personal).flag == evaluate(connect).flag  # it says so; it decides the same


def test_garmin_recovery_given_is_used_whatever_the_source() -> None:
    ctx = DayContext(now=NOW, garmin_recovery_hours=30, garmin_personal_api=True)
    assert "GARMIN_RECOVERY" in evaluate(ctx).codes and "garmin_recovery" not in evaluate(ctx).unknown
