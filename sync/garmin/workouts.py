"""Workout endpoints: store, schedule, unschedule and delete workouts in the athlete's calendar,
and read back the library and a day of the calendar (to see what a call whose answer was lost
did: creating and scheduling are not idempotent, so they are never sent twice blindly).

`create_running_workout` takes legday's own plan (`workout_body.RunningWorkout`) and returns a
typed record; `create_workout` still passes a Garmin JSON body through unchanged (a workout the
athlete could have built in Connect, used by tests and tools).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sync.garmin import endpoints as ep
from sync.garmin.errors import GarminBadResponse
from sync.garmin.records import ScheduledWorkout, StoredWorkout, iso_day
from sync.garmin.transport import Transport
from sync.garmin.workout_body import RunningWorkout, running_workout_body


def _int_id(data: Any, key: str, what: str) -> int:
    value = data.get(key) if isinstance(data, dict) else None
    if isinstance(value, bool) or not isinstance(value, int):
        raise GarminBadResponse(f"{what}: no {key} in the answer")
    return value


class WorkoutCalls(Transport):
    """Calls that write workouts."""

    def create_workout(self, workout: dict[str, Any]) -> dict[str, Any]:
        """Store a workout given as Garmin JSON; returns it with its new workoutId."""
        data = self._json("POST", ep.WORKOUT_CREATE, json_body=workout)
        _int_id(data, "workoutId", "workout create")
        return data

    def create_running_workout(self, workout: RunningWorkout) -> StoredWorkout:
        """Store a structured running workout built from legday's plan."""
        data = self._json("POST", ep.WORKOUT_CREATE, json_body=running_workout_body(workout))
        return StoredWorkout(
            workout_id=_int_id(data, "workoutId", "workout create"),
            name=data.get("workoutName"),
            owner_id=data.get("ownerId") if isinstance(data.get("ownerId"), int) else None,
        )

    def schedule_workout(self, workout_id: int, day: date) -> ScheduledWorkout:
        """Put a stored workout on the athlete's calendar.

        Not idempotent on Garmin's side (the same workout can sit on a date twice), so the
        caller must remember the returned schedule id.
        """
        data = self._json("POST", ep.schedule_workout(workout_id), json_body={"date": day.isoformat()})
        inner = data.get("workout") if isinstance(data, dict) else None
        return ScheduledWorkout(
            schedule_id=_int_id(data, "workoutScheduleId", "workout schedule"),
            workout_id=inner.get("workoutId") if isinstance(inner, dict) else None,
            day=iso_day(data.get("calendarDate")),
        )

    def list_workouts(self, *, page_size: int = 100, max_pages: int = 10) -> list[StoredWorkout]:
        """The athlete's workout library (every page, up to `max_pages`), without steps."""
        out: list[StoredWorkout] = []
        for page in range(max_pages):
            data = self._json("GET", ep.WORKOUT_LIST, params={"start": page * page_size, "limit": page_size})
            items = data if isinstance(data, list) else []
            for item in items:
                wid = item.get("workoutId") if isinstance(item, dict) else None
                if isinstance(wid, int) and not isinstance(wid, bool):
                    owner = item.get("ownerId")
                    name = item.get("workoutName")
                    out.append(
                        StoredWorkout(
                            workout_id=wid,
                            name=name if isinstance(name, str) else None,
                            owner_id=owner if isinstance(owner, int) else None,
                        )
                    )
            if len(items) < page_size:
                break
        return out

    def scheduled_on(self, day: date) -> list[ScheduledWorkout]:
        """The workouts on the athlete's calendar on `day` (its month's calendar items)."""
        data = self._json("GET", ep.calendar_month(day.year, day.month))
        items = data.get("calendarItems") if isinstance(data, dict) else None
        out: list[ScheduledWorkout] = []
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict) or item.get("itemType") != "workout":
                continue
            sid, wid = item.get("id"), item.get("workoutId")
            when = iso_day(str(item.get("date") or "")[:10])
            if isinstance(sid, int) and not isinstance(sid, bool) and when == day:
                out.append(
                    ScheduledWorkout(
                        schedule_id=sid, workout_id=wid if isinstance(wid, int) else None, day=when
                    )
                )
        return out

    def unschedule_workout(self, schedule_id: int) -> None:
        """Remove one calendar entry (the stored workout stays)."""
        self._json("DELETE", ep.workout_schedule(schedule_id))

    def delete_workout(self, workout_id: int) -> None:
        """Remove a stored workout."""
        self._json("DELETE", ep.workout(workout_id))
