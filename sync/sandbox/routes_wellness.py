"""Sandbox wellness routes: HRV, sleep, heart rate, stress, body battery, training readiness
and status, and the daily summary, all from the account's seeded wellness generator.
"""

from __future__ import annotations

from datetime import date, timedelta

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
from sync.sandbox.seed import WellnessValues

# Garmin answers a wellness path naming another user like this.
_FORBIDDEN = {"message": "HTTP 403 Forbidden", "error": "ForbiddenException"}


class WellnessRoutes(SandboxState):
    """Daily health data as Connect serves it."""

    def _today(self, a: SandboxAccount) -> date:
        return self.clock.today(a.timezone)

    def _range(self, a: SandboxAccount, lo: date, hi: date) -> list[WellnessValues]:
        """Wellness for each day lo..hi that has any (days without data are left out)."""
        today = self._today(a)
        out = []
        d = lo
        while d <= hi:
            w = a.wellness_day(d, today)
            if w is not None:
                out.append(w)
            d += timedelta(days=1)
        return out

    # -- routes: fn(account, query, body, *groups) -------------------------------------------

    def _wellness_routes(self) -> list[RouteSpec]:
        """Bearer routes for wellness data."""
        b = BEARER
        return [
            ("GET", r"/hrv-service/hrv/(\d{4}-\d{2}-\d{2})", b, self._r_hrv_day),
            ("GET", r"/hrv-service/hrv/daily/([\d-]+)/([\d-]+)", b, self._r_hrv_range),
            ("GET", r"/sleep-service/sleep/dailySleepData", b, self._r_sleep),
            ("GET", r"/wellness-service/wellness/dailySleepData/([^/]+)", b, self._r_sleep_named),
            ("GET", r"/wellness-service/stats/daily/sleep/score/([\d-]+)/([\d-]+)", b, self._r_sleep_scores),
            ("GET", r"/wellness-service/wellness/dailyHeartRate/?", b, self._r_heart_rate),
            ("GET", r"/wellness-service/wellness/dailyHeartRate/([^/]+)", b, self._r_heart_rate_named),
            ("GET", r"/userstats-service/wellness/daily/([^/]+)", b, self._r_rhr_range),
            ("GET", r"/wellness-service/wellness/dailyStress/([\d-]+)", b, self._r_stress),
            ("GET", r"/wellness-service/wellness/bodyBattery/events/([\d-]+)", b, self._r_bb_events),
            ("GET", r"/wellness-service/wellness/bodyBattery/reports/daily", b, self._r_bb_reports),
            ("GET", r"/metrics-service/metrics/trainingreadiness/([\d-]+)", b, self._r_readiness),
            ("GET", r"/metrics-service/metrics/trainingstatus/aggregated/([\d-]+)", b, self._r_status_agg),
            ("GET", r"/mobile-gateway/usersummary/trainingstatus/latest/([\d-]+)", b, self._r_status_latest),
            ("GET", r"/usersummary-service/usersummary/daily/?([^/]*)", b, self._r_daily_summary),
        ]

    def _r_hrv_day(self, a: SandboxAccount, q: dict[str, str], body: bytes, day: str) -> Reply:
        w = a.wellness_day(date.fromisoformat(day), self._today(a))
        if w is None or w.hrv_last_night is None:
            return Reply(204, b"", None)
        return json_reply(bodies.hrv_day(a, w))

    def _r_hrv_range(self, a: SandboxAccount, q: dict[str, str], body: bytes, lo: str, hi: str) -> Reply:
        start, end = parse_day(lo), parse_day(hi)
        if start is None or end is None or end < start:
            return Reply(400, b"", None)
        if (end - start).days > 27:
            return json_reply({"message": "Date range too large", "error": "BadRequestException"}, 400)
        items = [w for w in self._range(a, start, end) if w.hrv_last_night is not None]
        if not items:
            return Reply(204, b"", None)
        return json_reply(
            {"hrvSummaries": [bodies.hrv_summary(a, w) for w in items], "userProfilePk": a.profile_id}
        )

    def _sleep(self, a: SandboxAccount, q: dict[str, str], *, wellness_service: bool) -> Reply:
        day = parse_day(q.get("date"))
        if day is None:
            return Reply(400, b"", None)
        w = a.wellness_day(day, self._today(a))
        return json_reply(bodies.sleep_day(a, day, w, wellness_service=wellness_service))

    def _r_sleep(self, a: SandboxAccount, q: dict[str, str], body: bytes) -> Reply:
        return self._sleep(a, q, wellness_service=False)

    def _r_sleep_named(self, a: SandboxAccount, q: dict[str, str], body: bytes, name: str) -> Reply:
        if name != a.display_name:
            return json_reply(_FORBIDDEN, 403)
        return self._sleep(a, q, wellness_service=True)

    def _r_sleep_scores(self, a: SandboxAccount, q: dict[str, str], body: bytes, lo: str, hi: str) -> Reply:
        start, end = parse_day(lo), parse_day(hi)
        if start is None or end is None:
            return Reply(400, b"", None)
        return json_reply(bodies.sleep_scores(self._range(a, start, end)))

    def _r_heart_rate(self, a: SandboxAccount, q: dict[str, str], body: bytes) -> Reply:
        day = parse_day(q.get("date"))
        if day is None:
            return Reply(400, b"", None)
        return json_reply(bodies.daily_heart_rate(a, day, a.wellness_day(day, self._today(a))))

    def _r_heart_rate_named(self, a: SandboxAccount, q: dict[str, str], body: bytes, name: str) -> Reply:
        if name != a.display_name:
            return json_reply(_FORBIDDEN, 403)
        return self._r_heart_rate(a, q, body)

    def _r_rhr_range(self, a: SandboxAccount, q: dict[str, str], body: bytes, name: str) -> Reply:
        if name != a.display_name:
            return json_reply(_FORBIDDEN, 403)
        start, end = parse_day(q.get("fromDate")), parse_day(q.get("untilDate"))
        if start is None or end is None:
            return Reply(400, b"", None)
        return json_reply(bodies.resting_hr_range(a, self._range(a, start, end), start, end))

    def _r_stress(self, a: SandboxAccount, q: dict[str, str], body: bytes, day: str) -> Reply:
        w = a.wellness_day(date.fromisoformat(day), self._today(a))
        return Reply(200, b"null") if w is None else json_reply(bodies.daily_stress(a, w))

    def _r_bb_events(self, a: SandboxAccount, q: dict[str, str], body: bytes, day: str) -> Reply:
        w = a.wellness_day(date.fromisoformat(day), self._today(a))
        return json_reply([] if w is None else bodies.body_battery_events(a, w))

    def _r_bb_reports(self, a: SandboxAccount, q: dict[str, str], body: bytes) -> Reply:
        start, end = parse_day(q.get("startDate")), parse_day(q.get("endDate"))
        if start is None or end is None:
            return Reply(400, b"", None)
        return json_reply(bodies.body_battery_reports(a, self._range(a, start, end)))

    def _r_readiness(self, a: SandboxAccount, q: dict[str, str], body: bytes, day: str) -> Reply:
        w = a.wellness_day(date.fromisoformat(day), self._today(a))
        return json_reply([] if w is None or w.readiness is None else bodies.training_readiness(a, w))

    def _r_status_agg(self, a: SandboxAccount, q: dict[str, str], body: bytes, day: str) -> Reply:
        return json_reply(bodies.training_status_aggregated(a, date.fromisoformat(day)))

    def _r_status_latest(self, a: SandboxAccount, q: dict[str, str], body: bytes, day: str) -> Reply:
        return json_reply(bodies.template("training_status.json"))

    def _r_daily_summary(self, a: SandboxAccount, q: dict[str, str], body: bytes, name: str) -> Reply:
        if name and name != a.display_name:
            return json_reply(_FORBIDDEN, 403)
        day = parse_day(q.get("calendarDate"))
        if day is None:
            return Reply(400, b"", None)
        return json_reply(bodies.daily_summary(a, day, a.wellness_day(day, self._today(a))))
