"""Profile and settings endpoints: who the account is, its settings and HR zones."""

from __future__ import annotations

from typing import Any

from sync.garmin import endpoints as ep
from sync.garmin.errors import GarminBadResponse
from sync.garmin.plausible import MAX_HR, ZONE_REST_HR, kept_int
from sync.garmin.records import HeartRateZones, Profile
from sync.garmin.transport import Transport


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) else None


class UserProfileCalls(Transport):
    """Calls about the account itself."""

    def profile(self) -> Profile:
        """The social profile (displayName, userName, profileId); also verifies the tokens."""
        data = self._json("GET", ep.SOCIAL_PROFILE, forbidden_is_auth=True)
        if not isinstance(data, dict):
            raise GarminBadResponse("socialProfile: not an object")
        profile = Profile(
            display_name=data.get("displayName"),
            user_name=data.get("userName"),
            profile_id=_int_or_none(data.get("profileId")),
        )
        self.display_name = profile.display_name or profile.user_name
        return profile

    def user_settings(self) -> dict[str, Any] | None:
        """userData (weight g, gender, birth date, LTHR) and sleep windows, as Garmin sends them.

        Not read by the sync yet: it becomes a record when something consumes it.
        """
        return self._json("GET", ep.USER_SETTINGS, forbidden_is_auth=True)

    def personal_information(self) -> dict[str, Any] | None:
        """userInfo.timeZone (IANA) and locale, as Garmin sends them (not read by the sync yet)."""
        return self._json("GET", ep.PERSONAL_INFO, forbidden_is_auth=True)

    def heart_rate_zones(self) -> list[HeartRateZones]:
        """HR zone settings per sport (the max and resting HR Garmin uses)."""
        zones = self._json("GET", ep.HR_ZONES) or []
        return [
            HeartRateZones(
                sport=z.get("sport"),
                max_hr=kept_int(_int_or_none(z.get("maxHeartRateUsed")), MAX_HR),
                rest_hr=kept_int(_int_or_none(z.get("restingHeartRateUsed")), ZONE_REST_HR),
            )
            for z in zones
        ]
