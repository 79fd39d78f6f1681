"""The athlete's max and resting heart rate, from Garmin's HR zones."""

from __future__ import annotations

from sync.garmin_sync.context import RunContext
from sync.ingest.load import recompute_trimp


def fill_max_and_rest_hr(run: RunContext) -> None:
    """Take max and resting HR from Garmin's HR zones when the athlete has not set them.

    TRIMP and the EASY heart-rate cap need both; one request, only while they are missing.
    Activities imported before (from a folder, with the default profile) get their TRIMP
    recomputed for the new numbers.
    """
    athlete = run.athlete
    if athlete.max_hr is not None and athlete.rest_hr is not None:
        return
    zones = run.client.heart_rate_zones()
    chosen = next((z for z in zones if z.sport == "RUNNING"), None) or next(
        (z for z in zones if z.sport == "DEFAULT"), None
    )
    if not chosen:
        return
    max_hr, rest_hr = chosen.max_hr, chosen.rest_hr
    if (
        isinstance(max_hr, int)
        and isinstance(rest_hr, int)
        and 100 <= max_hr <= 240
        and 25 <= rest_hr < max_hr
    ):
        before = (athlete.max_hr, athlete.rest_hr)
        athlete.max_hr = athlete.max_hr or max_hr
        athlete.rest_hr = athlete.rest_hr or rest_hr
        if (athlete.max_hr, athlete.rest_hr) != before:
            recompute_trimp(run.session, athlete, run.settings)
