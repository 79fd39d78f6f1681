"""What the endpoint modules need from a client: JSON calls, capped downloads, the profile.

`GarminClient` (sync/garmin/client.py) implements these over garth; the endpoint mixins
(`profile`, `activities`, `wellness`, `workouts`) only build paths and turn answers into
records, so they never see garth, tokens or HTTP errors.
"""

from __future__ import annotations

from typing import Any

from sync.config import Settings
from sync.garmin.records import Profile


class Transport:
    """The primitives endpoint mixins call; a client supplies them."""

    settings: Settings
    display_name: str | None

    def _json(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        forbidden_is_auth: bool = False,
    ) -> Any:
        """One JSON call; None for "no data" (204, empty, `null`)."""
        raise NotImplementedError

    def _download(self, path: str, cap: int) -> bytes:
        """A binary body, refused above `cap` bytes."""
        raise NotImplementedError

    def profile(self) -> Profile:
        """The social profile (sets `display_name`, which some paths need)."""
        raise NotImplementedError
