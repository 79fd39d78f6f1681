"""The one type the sync holds: a client of any credential kind, and how to make one.

`GarminClient` (garth and DI tokens, the Connect API) and `PersonalApiClient` (Garmin's
official Personal API) answer the same calls with the same records; `capabilities` says what
one of them cannot do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sync.config import Settings
from sync.garmin.client import GarminClient
from sync.garmin.personal.client import PersonalApiClient
from sync.garmin.tokens import PersonalApiTokens, Tokens

GarminSource = GarminClient | PersonalApiClient


def client_for(
    tokens: Tokens, settings: Settings, *, on_refresh: Callable[[Any], None] | None = None, **kwargs: Any
) -> GarminSource:
    """The client for a credential: the Personal API for a key, the Connect API otherwise."""
    if isinstance(tokens, PersonalApiTokens):
        return PersonalApiClient(tokens, settings, on_refresh=on_refresh, **kwargs)
    return GarminClient(tokens, settings, on_refresh=on_refresh, **kwargs)
