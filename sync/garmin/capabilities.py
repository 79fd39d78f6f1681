"""What each kind of Garmin account can do: the only place the kinds differ for the sync.

The Connect API (garth and DI tokens) has Garmin's training readiness and recovery time,
the athlete's edited exercise sets and writes (the workout push). Garmin's official Personal
API has none of them (shared/garmin-connect/PERSONAL-API.md s.4): the sync reads these flags
instead of the account's kind, and the verdict names what it could not know.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Capabilities:
    """What a client can fetch or do beyond the data every kind has."""

    readiness: bool  # Garmin's Training Readiness and recovery time
    exercise_sets: bool  # Garmin's exerciseSets, with the athlete's corrections
    writes: bool  # workouts and the calendar (the workout push)


CONNECT_API = Capabilities(readiness=True, exercise_sets=True, writes=True)
PERSONAL_API = Capabilities(readiness=False, exercise_sets=False, writes=False)

KIND_CAPABILITIES = {"garth": CONNECT_API, "di": CONNECT_API, "personal_api": PERSONAL_API}


def capabilities_of(kind: str) -> Capabilities:
    """The capabilities of an account's credential kind (unknown kinds: the Connect API's)."""
    return KIND_CAPABILITIES.get(kind, CONNECT_API)
