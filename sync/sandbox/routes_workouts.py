"""Sandbox workout routes: create, read, update and delete workouts, schedule them, and list
the workout library and a month of the calendar (what a client reads to see what Garmin did)."""

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
from sync.sandbox.workout_checks import workout_problem


def _not_found() -> Reply:
    """Garmin's 404 for a workout or schedule id the account does not have."""
    return json_reply(bodies.template("error_404_not_found.json"), 404)


def _bad_request() -> Reply:
    """Garmin's 400 for a body it cannot use."""
    return json_reply(bodies.template("error_400_bad_request.json"), 400)


def _stored_step(step: dict, template: dict) -> dict:
    """A step as the recorded detail shows it: exactly the fields of the sample's steps.

    The request as sent (with its target values) is kept in `SandboxAccount.workout_requests`
    for tests to read, so the served shape stays the recorded one.
    """
    return {k: step.get(k, v) for k, v in template.items()}


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
            ("GET", r"/workout-service/workouts", BEARER, self._r_workout_list),
            ("GET", r"/calendar-service/year/(\d{4})/month/(\d{1,2})", BEARER, self._r_calendar_month),
        ]

    def _r_workout_create(self, a: SandboxAccount, q: dict[str, str], body: bytes) -> Reply:
        try:
            request = json.loads(body)
        except ValueError:
            return _bad_request()
        if workout_problem(request) is not None:
            return _bad_request()
        sent = json.loads(body)  # kept as sent: the stored copy below is reshaped in place
        workout = bodies.template("workout_detail.json")
        step_tpl = workout["workoutSegments"][0]["workoutSteps"][0]
        workout.update({k: v for k, v in request.items() if k in workout})
        for segment in workout.get("workoutSegments") or []:
            # Stored steps carry every field Garmin adds, whatever the request left out.
            steps = segment.get("workoutSteps") or []
            segment["workoutSteps"] = [_stored_step(step, step_tpl) for step in steps]
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
        a.workout_requests[workout_id] = sent
        return json_reply(workout)

    def _r_workout_get(self, a: SandboxAccount, q: dict[str, str], body: bytes, wid: str) -> Reply:
        workout = a.workouts.get(int(wid))
        return json_reply(workout) if workout else _not_found()

    def _r_workout_put(self, a: SandboxAccount, q: dict[str, str], body: bytes, wid: str) -> Reply:
        if int(wid) not in a.workouts:
            return _not_found()
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return _bad_request()
        if workout_problem(request) is not None:
            return _bad_request()
        a.workouts[int(wid)].update(request, workoutId=int(wid))
        a.workout_requests[int(wid)] = request
        return Reply(204, b"", None)

    def _r_workout_delete(self, a: SandboxAccount, q: dict[str, str], body: bytes, wid: str) -> Reply:
        if a.workouts.pop(int(wid), None) is None:
            return _not_found()
        a.workout_requests.pop(int(wid), None)
        # A deleted workout leaves the calendar too, as in Connect.
        for sid in [sid for sid, s in a.schedules.items() if s["workout"].get("workoutId") == int(wid)]:
            del a.schedules[sid]
        return Reply(204, b"", None)

    def _r_schedule(self, a: SandboxAccount, q: dict[str, str], body: bytes, wid: str) -> Reply:
        workout = a.workouts.get(int(wid))
        if workout is None:
            return _not_found()
        try:
            request = json.loads(body or b"{}") or {}
        except ValueError:
            return _bad_request()
        day = parse_day(request.get("date")) if isinstance(request, dict) else None
        if day is None:
            return _bad_request()
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

    def _r_workout_list(self, a: SandboxAccount, q: dict[str, str], body: bytes) -> Reply:
        """The library, newest first, `start`/`limit` paged: each workout without its steps."""
        try:
            start, limit = max(0, int(q.get("start", 0))), max(0, min(1000, int(q.get("limit", 20))))
        except ValueError:
            return _bad_request()
        items = sorted(
            a.workouts.values(), key=lambda w: (w.get("updatedDate") or "", w["workoutId"]), reverse=True
        )
        return json_reply(
            [{k: v for k, v in w.items() if k != "workoutSegments"} for w in items[start : start + limit]]
        )

    def _r_calendar_month(
        self, a: SandboxAccount, q: dict[str, str], body: bytes, year: str, month: str
    ) -> Reply:
        """A calendar month (Garmin counts months from 0): its scheduled workouts as calendar items."""
        y, m0 = int(year), int(month)
        if not 0 <= m0 <= 11:
            return _bad_request()
        prefix = f"{y:04d}-{m0 + 1:02d}-"
        items = [
            {
                "id": sid,
                "groupId": None,
                "trainingPlanId": None,
                "itemType": "workout",
                "workoutId": s["workout"].get("workoutId"),
                "title": s["workout"].get("workoutName"),
                "date": s["calendarDate"],
                "sportTypeKey": (s["workout"].get("sportType") or {}).get("sportTypeKey"),
            }
            for sid, s in sorted(a.schedules.items())
            if str(s.get("calendarDate", "")).startswith(prefix)
        ]
        return json_reply({"year": y, "month": m0, "calendarItems": items})
