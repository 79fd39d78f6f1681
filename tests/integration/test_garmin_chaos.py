"""Garmin misbehaving, short: a few sandbox athletes, a dozen simulated minutes of random faults.

The long version is bench/soak_garmin.py (50 athletes, 30 simulated minutes); both run the
engine in testkit/chaos_garmin.py, whose docstring lists the faults and the checks.
"""

from __future__ import annotations

import pytest

from sync.config import Settings
from sync.sandbox import Sandbox
from testkit.chaos_garmin import GarminChaos, chaos_settings, table
from testkit.factories import make_athlete
from testkit.smtp_server import SmtpServer


def test_sync_converges_under_random_garmin_faults(
    service_settings: Settings, smtp_server: SmtpServer
) -> None:
    with Sandbox() as sb:
        engine = GarminChaos(sb, chaos_settings(service_settings, sb), athletes=6, seed=7)
        engine.messages = smtp_server.recorder.messages
        result = engine.run(12, fault_share=0.35, reauth=1)
    for row in table(result):
        print(" | ".join(row))
    # The checks must have had something to check: faults fired, limits were imposed.
    assert sum(result.faults.values()) >= 10, result.faults
    assert result.rate_limit_windows >= 1, "no 429 landed: the rate-limit check checked nothing"
    assert result.missing_activities == []
    assert result.doubled_activities == []
    assert result.wellness_mismatches == []
    assert result.early_requests == []
    assert result.after_reauth_requests == []
    assert result.hot_loops == []
    assert result.reauth_marked == result.reauth_expected
    assert result.email_problems == []
    assert result.ok


@pytest.mark.long
def test_personal_api_athletes_converge_within_the_limits(
    service_settings: Settings, smtp_server: SmtpServer
) -> None:
    """Personal API keys under the same storm plus short Retry-Afters, synced on three threads:
    converged, and not one request beyond the Personal API's limits or before a Retry-After."""
    with Sandbox() as sb:
        settings = chaos_settings(service_settings, sb)
        engine = GarminChaos(sb, settings, athletes=6, seed=8, kind="personal_api", parallel=3)
        engine.messages = smtp_server.recorder.messages
        result = engine.run(12, fault_share=0.35, reauth=1)
    for row in table(result):
        print(" | ".join(row))
    assert sum(result.faults.values()) >= 10, result.faults
    assert result.rate_limit_windows >= 1, "no long 429 landed: the rate-limit check checked nothing"
    assert any(k.startswith("429 short") or "HTTP date" in k for k in result.faults), result.faults
    assert result.personal_api_violations == []
    assert result.retry_after_ignored == []
    assert result.missing_activities == [] and result.wellness_mismatches == []
    assert result.early_requests == [] and result.after_reauth_requests == []
    assert result.reauth_marked == result.reauth_expected
    assert result.email_problems == []
    assert result.ok


def test_sync_now_for_a_later_moment_fetches_that_mornings_wellness(service_settings: Settings) -> None:
    """`sync_account_now(now=...)` decides "last night is stored already" at `now`, not the wall clock.

    A scheduler or a simulation that passes tomorrow's morning must get tomorrow's wellness;
    deciding from the wall clock turned it into a bare activity check.
    """
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from sync.db.models import WellnessDay
    from sync.db.session import session_scope
    from sync.garmin_sync.accounts import add_tokens
    from sync.garmin_sync.now import sync_account_now

    with Sandbox() as sb:
        settings = chaos_settings(service_settings, sb)
        with session_scope(settings) as s:
            athlete = make_athlete(s, "ana")
            account_id = add_tokens(s, athlete, sb.issue_garth_tokens(), settings).id
        today = sb.clock.today("UTC")
        first = sync_account_now(account_id, settings=settings)
        assert first.status == "ok" and first.wellness
        sb.clock.advance(86_400)
        later = datetime.now(UTC) + timedelta(days=1)
        second = sync_account_now(account_id, settings=settings, now=later)
        assert second.status == "ok"
        assert second.wellness, "tomorrow's sync was turned into an activity check"
        with session_scope(settings) as s:
            days = set(s.scalars(select(WellnessDay.date)).all())
        want = sb.account.wellness_day(today + timedelta(days=1), today + timedelta(days=1))
        assert want is None or today + timedelta(days=1) in days
