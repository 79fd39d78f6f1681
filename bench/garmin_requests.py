"""What kind of Garmin request a sandbox log line was, for the fleet benches' request counts."""

from __future__ import annotations

# (a fragment of the path, its kind): the first fragment found names the request.
KINDS = (
    ("activitylist", "list"),
    ("activities/search", "list"),
    ("download-service", "download"),
    ("exerciseSets", "exercise sets"),
    ("hrv", "wellness"),
    ("sleep", "wellness"),
    ("readiness", "wellness"),
    ("bodyBattery", "wellness"),
    ("restingHeartRate", "wellness"),
    ("dailyHeartRate", "wellness"),
    ("wellness", "wellness"),
)


def request_kind(path: str) -> str:
    """`list`, `download`, `exercise sets`, `wellness` or `other` for a request path."""
    return next((label for key, label in KINDS if key in path), "other")
