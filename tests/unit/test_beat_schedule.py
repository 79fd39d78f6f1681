"""The email dispatcher's beat interval comes from the settings (crash soaks run it every few seconds)."""

from __future__ import annotations

import pytest

from sync.config import get_settings
from worker.schedule import beat_schedule


def test_email_dispatch_interval_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEGDAY_EMAIL_DISPATCH_INTERVAL_S", "7")
    get_settings.cache_clear()
    try:
        entry = beat_schedule()["dispatch-emails"]
    finally:
        get_settings.cache_clear()
    assert entry["schedule"] == 7.0
    assert entry["options"]["expires"] < 7.0  # a stalled worker never piles up duplicates


def test_email_dispatch_interval_defaults_to_five_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEGDAY_EMAIL_DISPATCH_INTERVAL_S", raising=False)
    get_settings.cache_clear()
    try:
        entry = beat_schedule()["dispatch-emails"]
    finally:
        get_settings.cache_clear()
    assert entry["schedule"] == 300.0
