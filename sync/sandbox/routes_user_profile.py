"""Sandbox profile routes: social profile, user settings, personal information, HR zones."""

from __future__ import annotations

from sync.sandbox import bodies
from sync.sandbox.model import BEARER, Reply, RouteSpec, SandboxAccount, SandboxState, json_reply


class UserProfileRoutes(SandboxState):
    """Who the athlete is, as Connect describes them."""

    def _profile_routes(self) -> list[RouteSpec]:
        """Bearer routes: fn(account, query, body, *groups)."""
        return [
            ("GET", r"/userprofile-service/socialProfile", BEARER, self._r_profile),
            ("GET", r"/userprofile-service/userprofile/user-settings", BEARER, self._r_settings),
            ("GET", r"/userprofile-service/userprofile/personal-information", BEARER, self._r_personal),
            ("GET", r"/biometric-service/heartRateZones", BEARER, self._r_hr_zones),
        ]

    def _r_profile(self, a: SandboxAccount, q: dict[str, str], body: bytes) -> Reply:
        return json_reply(bodies.social_profile(a))

    def _r_settings(self, a: SandboxAccount, q: dict[str, str], body: bytes) -> Reply:
        return json_reply(bodies.user_settings(a))

    def _r_personal(self, a: SandboxAccount, q: dict[str, str], body: bytes) -> Reply:
        return json_reply(bodies.personal_information(a))

    def _r_hr_zones(self, a: SandboxAccount, q: dict[str, str], body: bytes) -> Reply:
        return json_reply(bodies.template("heart_rate_zones.json"))
