"""When each kind of credential ends, read from the credential; and the warning steps."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from sync.credential_end import warning
from sync.garmin.lifetime import (
    DI_REFRESH_IDLE,
    GARTH_LIFETIME,
    GARTH_LOGIN_CUTOFF,
    credential_end,
    end_after_refresh,
)
from sync.garmin.tokens import DITokens, GarthTokens, personal_api_from_key

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _jwt(**claims: object) -> str:
    def seg(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{seg({'alg': 'RS256'})}.{seg(claims)}.sig"


def _garth(**oauth1: object) -> GarthTokens:
    return GarthTokens(oauth1={"oauth_token": "t", "oauth_token_secret": "s", **oauth1})


def test_garth_ends_at_its_recorded_expiry_else_a_year_after_the_last_possible_login() -> None:
    assert credential_end(_garth(mfa_expiration_timestamp="2027-03-18T05:33:02"), NOW) == datetime(
        2027, 3, 18, 5, 33, 2, tzinfo=UTC
    )
    assert credential_end(_garth(), NOW) == GARTH_LOGIN_CUTOFF + GARTH_LIFETIME
    early = datetime(2026, 1, 10, tzinfo=UTC)  # added before the logins stopped working
    assert credential_end(_garth(mfa_expiration_timestamp=None), early) == early + GARTH_LIFETIME
    assert end_after_refresh(_garth(), NOW) == credential_end(_garth(), NOW)  # an exchange extends nothing


def test_di_ends_30_days_after_the_last_refresh() -> None:
    issued = NOW - timedelta(days=3)
    tokens = DITokens(_jwt(exp=int(NOW.timestamp()) + 3600, iat=int(issued.timestamp())), "r", "c")
    assert credential_end(tokens, NOW) == issued + DI_REFRESH_IDLE
    no_iat = DITokens(_jwt(exp=int(NOW.timestamp()) + 3600), "r", "c")
    assert credential_end(no_iat, NOW) == NOW + DI_REFRESH_IDLE
    assert end_after_refresh(tokens, NOW + timedelta(days=10)) == NOW + timedelta(days=10) + DI_REFRESH_IDLE


def test_a_personal_api_key_ends_at_the_chosen_expiry() -> None:
    ends = NOW + timedelta(days=90)
    assert credential_end(personal_api_from_key("GCDC_x", key_expires_at=ends.timestamp()), NOW) == ends


def test_warning_steps_in_the_athletes_calendar() -> None:
    ends = datetime(2027, 1, 20, 23, 30, tzinfo=UTC)  # 2027-01-21 in Berlin
    shown = {}
    for before in (15, 14, 8, 7, 2, 1, 0):
        moment = datetime(2027, 1, 21, 7, 0, tzinfo=UTC) - timedelta(days=before)
        found = warning("personal_api", ends, "Europe/Berlin", moment)
        shown[before] = (found.days_left, found.step) if found else None
    assert shown == {15: None, 14: (14, 14), 8: (8, 14), 7: (7, 7), 2: (2, 7), 1: (1, 1), 0: None}
    assert warning("di", ends, "UTC", ends - timedelta(hours=1)).text.startswith(  # type: ignore[union-attr]
        "Your Garmin connection ends today (2027-01-20)"
    )
    assert warning("garth", ends, "UTC", ends) is None  # ended: the re-auth email speaks
    assert warning("garth", None, "UTC", NOW) is None
