"""Activity endpoints: the activity list, one activity, its exercise sets, its FIT download."""

from __future__ import annotations

from datetime import date
from typing import Any

from sync.garmin import endpoints as ep
from sync.garmin.errors import GarminBadResponse, GarminNotFound
from sync.garmin.records import ActivitySummary, ExerciseSet, UnreadableActivity, dto_time, gmt_time
from sync.garmin.transport import Transport


def activity_summary(item: dict[str, Any]) -> ActivitySummary:
    """One activity-list row as a record (KeyError/ValueError when id or start is missing)."""
    return ActivitySummary(
        activity_id=int(item["activityId"]),
        start_utc=gmt_time(item["startTimeGMT"]),
        type_key=((item.get("activityType") or {}).get("typeKey") or "").lower(),
        has_exercise_sets=bool(item.get("summarizedExerciseSets")),
    )


MAX_REPS = 1000  # more in one set is a typo or junk, never training
MAX_WEIGHT_G = 1_000_000  # a tonne


def _number(item: dict[str, Any], key: str) -> float | None:
    """A numeric field or None; anything else (text, true/false) is not Garmin's shape."""
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise ValueError(f"{key} {value!r} is not a number")
    return float(value)


def _list_row(item: Any) -> ActivitySummary | UnreadableActivity:
    """One list row: a summary, or why it cannot be read (one bad row never fails the page)."""
    try:
        return activity_summary(item)
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raw_id = item.get("activityId") if isinstance(item, dict) else None
        activity_id = raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) else None
        what = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        return UnreadableActivity(activity_id, f"unreadable activity-list entry ({what})")


def exercise_set(position: int, item: dict[str, Any]) -> ExerciseSet:
    """One exerciseSets entry as a record; `position` is its place in Garmin's list.

    Raises ValueError for values Garmin never sends (negative or huge counts, text for a
    weight): the caller then keeps the FIT's own sets rather than store junk.
    """
    index = item.get("messageIndex")
    guesses = sorted(item.get("exercises") or [], key=lambda e: -(e.get("probability") or 0))
    best = guesses[0] if guesses else {}
    reps = _number(item, "repetitionCount")
    if reps is not None and not (reps == int(reps) and 0 <= reps <= MAX_REPS):
        raise ValueError(f"repetitionCount {item['repetitionCount']!r} is not a count of repetitions")
    grams = _number(item, "weight")
    if grams is not None and grams > MAX_WEIGHT_G:
        raise ValueError(f"weight {item['weight']!r} g is not a weight anyone lifts")
    duration = _number(item, "duration")
    if duration is not None and duration < 0:
        raise ValueError(f"duration {item['duration']!r} is negative")
    return ExerciseSet(
        index=position if index is None else int(index),
        active=str(item.get("setType", "")).upper() == "ACTIVE",
        category=str(best["category"]).lower() if best.get("category") else None,
        category_guesses=tuple(str(g["category"]).lower() if g.get("category") else None for g in guesses),
        exercise=str(best["name"]).lower() if best.get("name") else None,
        reps=None if reps is None else int(reps),
        # Garmin sends -1 for "not entered", 0 for body weight.
        weight_kg=None if grams is None or grams < 0 else grams / 1000.0,
        duration_s=duration,
        start_utc=dto_time(item.get("startTime")),
    )


class ActivityCalls(Transport):
    """Calls about recorded activities."""

    def activities(
        self,
        start: int = 0,
        limit: int = 20,
        *,
        start_date: date | None = None,
        end_date: date | None = None,
    ) -> list[ActivitySummary | UnreadableActivity]:
        """One page of the activity list, newest first (`[]` past the end)."""
        params: dict[str, Any] = {"start": start, "limit": limit}
        if start_date is not None:
            params["startDate"] = start_date.isoformat()
        if end_date is not None:
            params["endDate"] = end_date.isoformat()
        data = self._json("GET", ep.ACTIVITY_LIST, params=params, forbidden_is_auth=True)
        return [_list_row(item) for item in data] if isinstance(data, list) else []

    def activity(self, activity_id: int) -> dict[str, Any]:
        """The summary of one activity, as Garmin sends it (not read by the sync yet)."""
        data = self._json("GET", ep.activity(activity_id))
        if not isinstance(data, dict):
            raise GarminNotFound(f"activity {activity_id}: no data")
        return data

    def exercise_sets(self, activity_id: int) -> list[ExerciseSet] | None:
        """Garmin's strength sets (with the athlete's corrections); None for non-strength."""
        data = self._json("GET", ep.exercise_sets(activity_id))
        if not isinstance(data, dict):
            return None
        sets = data.get("exerciseSets")
        if not isinstance(sets, list):
            return None
        try:
            return [exercise_set(position, item) for position, item in enumerate(sets)]
        except (ValueError, TypeError, AttributeError) as exc:
            raise GarminBadResponse(f"exerciseSets of activity {activity_id}: {exc}") from None

    def download_fit_zip(self, activity_id: int) -> bytes:
        """The original FIT as Garmin sends it (a ZIP), refused above the size cap."""
        return self._download(ep.fit_download(activity_id), self.settings.garmin_max_download_bytes)
