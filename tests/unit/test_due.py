"""When syncs are due: wellness after the wake time and before the send time, cheap checks between."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sync.config import Settings
from sync.garmin_sync.due import latest_slot, next_due, next_slot, wellness_due, wellness_slots

SETTINGS = Settings(wake_time=time(5, 30), wellness_lead_min=30, activity_check_interval_s=900)
BERLIN = "Europe/Berlin"


def test_two_wellness_moments_a_day_in_local_time_across_dst() -> None:
    winter = wellness_slots(date(2026, 3, 28), BERLIN, time(6, 30), SETTINGS)
    summer = wellness_slots(date(2026, 3, 29), BERLIN, time(6, 30), SETTINGS)  # clocks jump at 02:00
    assert [s.astimezone(UTC).strftime("%H:%M") for s in winter] == ["04:30", "05:00"]
    assert [s.astimezone(UTC).strftime("%H:%M") for s in summer] == ["03:30", "04:00"]


def test_an_early_send_time_collapses_to_the_wake_time() -> None:
    slots = wellness_slots(date(2026, 3, 10), "UTC", time(5, 45), SETTINGS)
    assert slots == [datetime(2026, 3, 10, 5, 30, tzinfo=UTC)]


def test_wellness_is_owed_once_per_moment() -> None:
    now = datetime(2026, 3, 10, 5, 40, tzinfo=UTC)
    assert latest_slot(now, "UTC", time(6, 30), SETTINGS) == datetime(2026, 3, 10, 5, 30, tzinfo=UTC)
    assert next_slot(now, "UTC", time(6, 30), SETTINGS) == datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
    assert wellness_due(None, now, "UTC", time(6, 30), SETTINGS)
    assert wellness_due(now - timedelta(hours=3), now, "UTC", time(6, 30), SETTINGS)
    assert not wellness_due(now - timedelta(minutes=5), now, "UTC", time(6, 30), SETTINGS)


def test_next_due_is_the_earlier_of_the_check_and_the_next_moment() -> None:
    now = datetime(2026, 3, 10, 5, 50, tzinfo=UTC)
    synced = now - timedelta(minutes=10)
    due = next_due(synced, synced, now, "UTC", time(6, 30), SETTINGS)
    assert due == datetime(2026, 3, 10, 5, 55, tzinfo=UTC)  # the check (15 min) before 06:00
    assert next_due(None, None, now, "UTC", time(6, 30), SETTINGS) == now  # new: at once
    midday = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    assert next_due(midday, midday, midday, "UTC", time(6, 30), SETTINGS) == midday + timedelta(minutes=15)
