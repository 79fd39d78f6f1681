"""Activity endpoints: the activity list, one activity, its exercise sets, its FIT download."""

from __future__ import annotations

from datetime import date
from typing import Any

from sync.garmin import endpoints as ep
from sync.garmin.errors import GarminNotFound
from sync.garmin.records import ActivitySummary, ExerciseSet, dto_time, gmt_time
from sync.garmin.transport import Transport


def activity_summary(item: dict[str, Any]) -> ActivitySummary:
    """One activity-list row as a record (KeyError/ValueError when id or start is missing)."""
    return ActivitySummary(
        activity_id=int(item["activityId"]),
        start_utc=gmt_time(item["startTimeGMT"]),
        type_key=((item.get("activityType") or {}).get("typeKey") or "").lower(),
        has_exercise_sets=bool(item.get("summarizedExerciseSets")),
    )


def exercise_set(position: int, item: dict[str, Any]) -> ExerciseSet:
    """One exerciseSets entry as a record; `position` is its place in Garmin's list."""
    index = item.get("messageIndex")
    guesses = sorted(item.get("exercises") or [], key=lambda e: -(e.get("probability") or 0))
    best = guesses[0] if guesses else {}
    grams = item.get("weight")
    weight_kg = (
        (grams / 1000.0 if grams > 0 else 0.0 if grams == 0 else None)
        if isinstance(grams, int | float)
        else None
    )
    return ExerciseSet(
        index=position if index is None else int(index),
        active=str(item.get("setType", "")).upper() == "ACTIVE",
        category=str(best["category"]).lower() if best.get("category") else None,
        category_guesses=tuple(str(g["category"]).lower() if g.get("category") else None for g in guesses),
        exercise=str(best["name"]).lower() if best.get("name") else None,
        reps=item.get("repetitionCount"),
        weight_kg=weight_kg,
        duration_s=item.get("duration"),
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
    ) -> list[ActivitySummary]:
        """One page of the activity list, newest first (`[]` past the end)."""
        params: dict[str, Any] = {"start": start, "limit": limit}
        if start_date is not None:
            params["startDate"] = start_date.isoformat()
        if end_date is not None:
            params["endDate"] = end_date.isoformat()
        data = self._json("GET", ep.ACTIVITY_LIST, params=params, forbidden_is_auth=True)
        return [activity_summary(item) for item in data] if isinstance(data, list) else []

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
        return [exercise_set(position, item) for position, item in enumerate(sets)]

    def download_fit_zip(self, activity_id: int) -> bytes:
        """The original FIT as Garmin sends it (a ZIP), refused above the size cap."""
        return self._download(ep.fit_download(activity_id), self.settings.garmin_max_download_bytes)
