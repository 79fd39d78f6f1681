"""Sandbox workout routes: create, read, update and delete workouts, and schedule them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sync.sandbox import bodies
from sync.sandbox.model import (
    BEARER,
    Reply,
    RouteSpec,
    SandboxAccount,
    SandboxState,
    json_reply,
    parse_day,
)


def _not_found() -> Reply:
    """Garmin's 404 for a workout or schedule id the account does not have."""
    return json_reply(bodies.template("error_404_not_found.json"), 404)


class WorkoutRoutes(SandboxState):
    """Workouts and their calendar entries, kept per account."""

    _next_workout: int
    _next_schedule: int

    # -- routes: fn(account, query, body, *groups) -------------------------------------------

    def _workout_routes(self) -> list[RouteSpec]:
        """Bearer routes for workouts and schedules."""
        return [
            ("POST", r"/workout-service/workout", BEARER, self._r_workout_create),
            ("GET", r"/workout-service/workout/(\d+)", BEARER, self._r_workout_get),
            ("PUT", r"/workout-service/workout/(\d+)", BEARER, self._r_workout_put),
            ("DELETE", r"/workout-service/workout/(\d+)", BEARER, self._r_workout_delete),
            ("POST", r"/workout-service/schedule/(\d+)", BEARER, self._r_schedule),
            ("GET", r"/workout-service/schedule/(\d+)", BEARER, self._r_schedule_get),
            ("DELETE", r"/workout-service/schedule/(\d+)", BEARER, self._r_schedule_delete),
        ]

    def _r_workout_create(self, a: SandboxAccount, q: dict[str, str], body: bytes) -> Reply:
        try:
            request = json.loads(body)
        except ValueError:
            return Reply(400, b"", None)
        workout = bodies.template("workout_detail.json")
        step_tpl = workout["workoutSegments"][0]["workoutSteps"][0]
        workout.update({k: v for k, v in request.items() if k in workout})
        for segment in workout.get("workoutSegments") or []:
            # Stored steps carry every field Garmin adds, whatever the request left out.
            segment["workoutSteps"] = [
                {k: step.get(k, v) for k, v in step_tpl.items()} for step in segment.get("workoutSteps") or []
            ]
        now = datetime.fromtimestamp(self.clock.now(), UTC).strftime("%Y-%m-%dT%H:%M:%S.0")
        with self._lock:
            workout_id = self._next_workout
            self._next_workout += 1
        workout.update(workoutId=workout_id, ownerId=a.profile_id, createdDate=now, updatedDate=now)
        step_id = workout_id * 100
        for segment in workout.get("workoutSegments") or []:
            for step in segment.get("workoutSteps") or []:
                step_id += 1
                step["stepId"] = step_id
        a.workouts[workout_id] = workout
        return json_reply(workout)

    def _r_workout_get(self, a: SandboxAccount, q: dict[str, str], body: bytes, wid: str) -> Reply:
        workout = a.workouts.get(int(wid))
        return json_reply(workout) if workout else _not_found()

    def _r_workout_put(self, a: SandboxAccount, q: dict[str, str], body: bytes, wid: str) -> Reply:
        if int(wid) not in a.workouts:
            return _not_found()
        a.workouts[int(wid)].update(json.loads(body or b"{}"), workoutId=int(wid))
        return Reply(204, b"", None)

    def _r_workout_delete(self, a: SandboxAccount, q: dict[str, str], body: bytes, wid: str) -> Reply:
        if a.workouts.pop(int(wid), None) is None:
            return _not_found()
        return Reply(204, b"", None)

    def _r_schedule(self, a: SandboxAccount, q: dict[str, str], body: bytes, wid: str) -> Reply:
        workout = a.workouts.get(int(wid))
        if workout is None:
            return _not_found()
        day = parse_day((json.loads(body or b"{}") or {}).get("date"))
        if day is None:
            return Reply(400, b"", None)
        with self._lock:
            schedule_id = self._next_schedule
            self._next_schedule += 1
        reply = bodies.template("workout_schedule_response.json")
        reply.update(workoutScheduleId=schedule_id, calendarDate=day.isoformat())
        reply["workout"].update({k: workout[k] for k in reply["workout"] if k in workout})
        a.schedules[schedule_id] = reply
        return json_reply(reply)

    def _r_schedule_get(self, a: SandboxAccount, q: dict[str, str], body: bytes, sid: str) -> Reply:
        item = a.schedules.get(int(sid))
        return json_reply(item) if item else _not_found()

    def _r_schedule_delete(self, a: SandboxAccount, q: dict[str, str], body: bytes, sid: str) -> Reply:
        if a.schedules.pop(int(sid), None) is None:
            return _not_found()
        return Reply(204, b"", None)
