"""Sandbox activity routes: the list, one summary, exercise sets, the FIT download, and the
athlete's edits to exercise sets in Connect.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from zoneinfo import ZoneInfo

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
from sync.sandbox.seed import SandboxActivity, SeedSet


class ActivityRoutes(SandboxState):
    """Activities as Connect lists and serves them."""

    _zips: dict[int, bytes]  # activity id -> FIT zip, built on first download, then reused

    # -- what the athlete does in Connect ------------------------------------------------------

    def edit_exercise_sets(
        self,
        activity_id: int,
        labels: dict[int, tuple[str, str | None]] | None = None,
        *,
        delete: Iterable[int] = (),
    ) -> list[SeedSet]:
        """Relabel (set index -> (category, exercise)) or delete sets, as the athlete does in
        Connect after the upload. exerciseSets serves the result from now on; the FIT stays.
        Returns the activity's corrected sets.
        """
        act = next(
            (x for acct in self.accounts.values() for x in acct.activities if x.activity_id == activity_id),
            None,
        )
        if act is None:
            raise KeyError(f"no sandbox activity {activity_id}")
        labels = labels or {}
        gone = set(delete)
        current = act.corrected_sets if act.corrected_sets is not None else act.sets
        edited = []
        for kept in current:
            if kept.index in gone:
                continue
            if kept.index in labels:
                category, exercise = labels[kept.index]
                kept = dataclasses.replace(kept, category=category, exercise=exercise)
            edited.append(kept)
        act.corrected_sets = edited
        return edited

    # -- routes: fn(account, query, body, *groups) -------------------------------------------

    def _activity_routes(self) -> list[RouteSpec]:
        """Bearer routes for activities."""
        return [
            ("GET", r"/activitylist-service/activities/search/activities", BEARER, self._r_list),
            ("GET", r"/activity-service/activity/(\d+)", BEARER, self._r_activity),
            ("GET", r"/activity-service/activity/(\d+)/exerciseSets", BEARER, self._r_sets),
            ("GET", r"/download-service/files/activity/(\d+)", BEARER, self._r_download),
        ]

    def _r_list(self, a: SandboxAccount, q: dict[str, str], body: bytes) -> Reply:
        try:
            start = int(q.get("start", 0))
            limit = min(int(q.get("limit", 20)), 1000)
        except ValueError:
            return Reply(400, b"", None)
        tz = ZoneInfo(a.timezone)
        acts = a.newest_first()
        lo, hi = parse_day(q.get("startDate")), parse_day(q.get("endDate"))
        if lo or hi:
            acts = [
                x
                for x in acts
                if (lo is None or x.start.astimezone(tz).date() >= lo)
                and (hi is None or x.start.astimezone(tz).date() <= hi)
            ]
        if q.get("activityType"):
            wanted = q["activityType"]
            acts = [
                x
                for x in acts
                if x.type_key == wanted
                or (wanted == "fitness_equipment" and x.type_key == "strength_training")
            ]
        if q.get("sortOrder") == "asc":
            acts = list(reversed(acts))
        return json_reply([bodies.activity_list_item(a, x) for x in acts[start : start + limit]])

    def _find(self, a: SandboxAccount, activity_id: str) -> SandboxActivity | Reply:
        """The account's activity, or Garmin's error: 403 if someone else owns it, else 404."""
        wanted = int(activity_id)
        for act in a.activities:
            if act.activity_id == wanted:
                return act
        for other in self.accounts.values():
            if other is not a and any(x.activity_id == wanted for x in other.activities):
                return json_reply(bodies.template("error_403_not_owner.json"), 403)
        return json_reply(bodies.template("error_404_not_found.json"), 404)

    def _r_activity(self, a: SandboxAccount, q: dict[str, str], body: bytes, aid: str) -> Reply:
        act = self._find(a, aid)
        return act if isinstance(act, Reply) else json_reply(bodies.activity_summary(a, act))

    def _r_sets(self, a: SandboxAccount, q: dict[str, str], body: bytes, aid: str) -> Reply:
        act = self._find(a, aid)
        return act if isinstance(act, Reply) else json_reply(bodies.exercise_sets(act))

    def _r_download(self, a: SandboxAccount, q: dict[str, str], body: bytes, aid: str) -> Reply:
        act = self._find(a, aid)
        if isinstance(act, Reply):
            return act
        if act.activity_id not in self._zips:
            self._zips[act.activity_id] = bodies.fit_zip(act)
        data = self._zips[act.activity_id]
        if self.faults.take(
            "GET", f"/download-service/files/activity/{aid}", a.display_name, ("truncated_zip",)
        ):
            data = data[: len(data) // 2]
        return Reply(
            200,
            data,
            "application/x-zip-compressed",
            {"Content-Disposition": f'attachment; filename="{act.activity_id}.zip"'},
        )
