"""Workout endpoints: store, schedule and delete workouts in the athlete's Connect calendar.

Workouts are Garmin's own JSON both ways (the caller builds the body from
shared/garmin-connect templates), so these calls pass dicts through.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sync.garmin import endpoints as ep
from sync.garmin.errors import GarminBadResponse
from sync.garmin.transport import Transport


class WorkoutCalls(Transport):
    """Calls that write workouts."""

    def create_workout(self, workout: dict[str, Any]) -> dict[str, Any]:
        """Store a workout; returns it with its new workoutId."""
        data = self._json("POST", ep.WORKOUT_CREATE, json_body=workout)
        if not isinstance(data, dict) or "workoutId" not in data:
            raise GarminBadResponse("workout create: no workoutId in the answer")
        return data

    def schedule_workout(self, workout_id: int, day: date) -> dict[str, Any]:
        """Put a stored workout on the athlete's calendar; returns workoutScheduleId."""
        data = self._json("POST", ep.schedule_workout(workout_id), json_body={"date": day.isoformat()})
        if not isinstance(data, dict):
            raise GarminBadResponse("workout schedule: empty answer")
        return data

    def delete_workout(self, workout_id: int) -> None:
        """Remove a stored workout."""
        self._json("DELETE", ep.workout(workout_id))
