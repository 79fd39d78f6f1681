"""The sandbox's Garmin Connect Personal API, on its own host (PERSONAL-API.md s.6).

Requests whose Host is `personal.connectapi.garmin.com` come here (the client sends that
Host with the sandbox URL, as it does for the Connect hosts). What it does:

- keys: `issue_personal_api_key()` makes one for an account, with the expiry the athlete
  chose on the sandbox clock; `revoke_personal_api_key()` kills it. The token exchange takes
  `Authorization: ApiKey <key>` and answers a JWT (with `exp`, 24 h) as the plain-text body;
  a wrong, expired or revoked key is 401.
- every GET needs `Authorization: Bearer <token>` from that exchange (Connect's tokens are
  not accepted here), not expired on the sandbox clock, else 401.
- the paths of s.4 and their caps: a range over its cap is 400; `limit` over 45 or missing on
  the activity list is 500; a download whose Accept lacks `application/x-zip-compressed` is
  406; no Training Readiness, no exercise sets (404) and no writes (405).
- more than `personal_api_parallel_limit` (2) requests of one key at once is 429 with
  `Retry-After`.

Each of those refusals that a careful client never causes is also written to
`personal_api_violations`, so a test can fail when legday ever exceeded a limit
(`assert_personal_api_limits()`), even where the client recovered from the error.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sync.sandbox import bodies
from sync.sandbox.model import LoggedRequest, Reply, SandboxAccount, SandboxState, json_reply, parse_day
from sync.sandbox.seed import WellnessValues

PERSONAL_API_HOST = "personal.connectapi.garmin.com"
PERSONAL_API_TOKEN_TTL_S = 24 * 3600.0
TOKEN_PATH = "/personalapitoken-service/personal-api/personal-api-key/token"
MAX_PAGE = 45
CAPS = {"sleep": 31, "hrv": 365, "body_battery": 31, "daily_summaries": 31, "stress": 28}
ZIP = "application/x-zip-compressed"
WWW_AUTH_401 = 'Bearer error="invalid_token"'


@dataclass
class PersonalApiKey:
    """One key the sandbox issued."""

    account: str
    expires_at: float  # sandbox clock
    revoked: bool = False


class PersonalApiRoutes(SandboxState):
    """The Personal API host: keys, tokens, limits, and the data routes."""

    personal_api_parallel_limit: int
    personal_api_retry_after: str
    personal_api_violations: list[str]
    _pa_keys: dict[str, PersonalApiKey]
    _pa_tokens: dict[str, tuple[str, float, str]]  # token -> (account, expires at, key)
    _pa_in_flight: dict[str, int]
    _pa_issued: list[str]  # every token handed out, in order

    def _init_personal_api(self) -> None:
        self.personal_api_parallel_limit = 2
        self.personal_api_retry_after = "14"
        self.personal_api_violations = []
        self._pa_keys = {}
        self._pa_tokens = {}
        self._pa_in_flight = {}
        self._pa_issued = []

    # -- keys and tokens ---------------------------------------------------------------------

    def issue_personal_api_key(self, account: str | None = None, *, expires_in_days: int = 90) -> str:
        """A key for `account` (default: the first), as Connect's settings page creates one."""
        acct = self.accounts[account] if account else self.account
        key = "GCDC_" + secrets.token_urlsafe(32)
        with self._lock:
            self._pa_keys[key] = PersonalApiKey(
                acct.display_name, self.clock.now() + expires_in_days * 86400.0
            )
        return key

    def revoke_personal_api_key(self, key: str) -> None:
        """The athlete deletes the key in Connect: its exchange and its tokens stop working."""
        with self._lock:
            self._pa_keys[key].revoked = True
            self._pa_tokens = {t: v for t, v in self._pa_tokens.items() if v[2] != key}

    def expire_personal_api_tokens(self) -> None:
        """Every Personal API bearer token stops working now (the keys still exchange)."""
        with self._lock:
            self._pa_tokens = {t: (a, 0.0, k) for t, (a, _, k) in self._pa_tokens.items()}

    def personal_api_tokens_issued(self) -> int:
        """How many bearer tokens the exchange handed out (alive or not, all keys)."""
        with self._lock:
            return len(self._pa_issued)

    def assert_personal_api_limits(self) -> None:
        """Fail (AssertionError) when any request ever went beyond a Personal API limit."""
        with self._lock:
            seen = list(self.personal_api_violations)
        assert not seen, f"{len(seen)} request(s) beyond the Personal API's limits: {seen[:5]}"

    def _violation(self, what: str) -> None:
        with self._lock:
            self.personal_api_violations.append(what)

    def _pa_jwt(self, account: str, ttl: float) -> tuple[str, float]:
        def seg(obj: dict[str, Any]) -> str:
            return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

        now = self.clock.now()
        exp = now + ttl
        header = {"alg": "RS256", "typ": "JWT", "kid": "sandbox-personal"}
        payload = {"iss": "personal-api", "sub": account, "iat": int(now), "exp": int(exp)}
        return f"{seg(header)}.{seg(payload)}.{secrets.token_urlsafe(24)}", float(int(exp))

    def _pa_identify(self, authorization: str) -> tuple[str | None, str | None, str | None]:
        """(auth kind, account, key) of a request to the Personal API host."""
        if authorization.startswith("ApiKey "):
            key = authorization[7:].strip()
            with self._lock:
                entry = self._pa_keys.get(key)
            return "apikey", entry.account if entry else None, key
        if authorization.startswith("Bearer "):
            with self._lock:
                token = self._pa_tokens.get(authorization[7:].strip())
            if token is None:
                return "bearer", None, None
            return "bearer", token[0], token[2]  # expired or not: checked when answering
        return None, None, None

    # -- dispatch ----------------------------------------------------------------------------

    def _pa_route(
        self, method: str, path: str, query: dict[str, str], headers: Any, kind: str | None, key: str | None
    ) -> Reply:
        """Answer one request to the Personal API host, counting it in flight for its key."""
        if key is None:
            return self._pa_answer(method, path, query, headers, kind, key)
        with self._lock:
            self._pa_in_flight[key] = self._pa_in_flight.get(key, 0) + 1
            in_flight = self._pa_in_flight[key]
        try:
            if in_flight > self.personal_api_parallel_limit:
                self._violation(f"{in_flight} requests of one key at once ({method} {path})")
                return Reply(429, b"", None, {"Retry-After": self.personal_api_retry_after})
            if self.faults.latency_ms:
                time.sleep(self.faults.latency_ms / 1000)
            return self._pa_answer(method, path, query, headers, kind, key)
        finally:
            with self._lock:
                self._pa_in_flight[key] -= 1

    def _pa_answer(
        self, method: str, path: str, query: dict[str, str], headers: Any, kind: str | None, key: str | None
    ) -> Reply:
        if path == TOKEN_PATH:
            return self._pa_exchange(method, kind, key)
        if method != "GET":
            return Reply(405, b"", None)  # read-only: no workouts, no calendar
        auth = headers.get("Authorization", "")
        with self._lock:
            token = self._pa_tokens.get(auth[7:].strip()) if auth.startswith("Bearer ") else None
            entry = self._pa_keys.get(key or "")
        expired = token is not None and self.faults.take(method, path, token[0], ("expire_token",))
        if kind != "bearer" or token is None or token[1] <= self.clock.now() or expired:
            return Reply(401, b"", None, {"WWW-Authenticate": WWW_AUTH_401})
        if entry is None or entry.revoked or entry.expires_at <= self.clock.now():
            return Reply(401, b"", None, {"WWW-Authenticate": WWW_AUTH_401})
        account = self.accounts[entry.account]
        if self._over_budget(account):
            return Reply(429, b"", None, {"Retry-After": self.personal_api_retry_after})
        return self._pa_get(account, path, query, headers)

    def _pa_exchange(self, method: str, kind: str | None, key: str | None) -> Reply:
        if method != "POST":
            return Reply(405, b"", None)
        with self._lock:
            entry = self._pa_keys.get(key or "") if kind == "apikey" else None
        if entry is None or entry.revoked or entry.expires_at <= self.clock.now():
            return json_reply({"message": "Invalid or expired API key"}, 401)
        token, exp = self._pa_jwt(entry.account, PERSONAL_API_TOKEN_TTL_S)
        with self._lock:
            self._pa_tokens[token] = (entry.account, exp, key or "")
            self._pa_issued.append(token)
        return Reply(200, token.encode(), "text/plain")

    def _pa_get(self, a: SandboxAccount, path: str, q: dict[str, str], headers: Any) -> Reply:
        """The data routes (GET, bearer checked)."""
        routes = {
            "/userprofile-service/userprofile/settings": lambda: json_reply(bodies.user_settings(a)),
            "/biometric-service/heartRateZones/v2": lambda: json_reply(
                bodies.template("heart_rate_zones.json")
            ),
            "/activitylist-service/activities/search/activities": lambda: self._pa_list(a, path, q),
            "/sleep-service/sleep/dailySleep": lambda: self._pa_sleep_day(a, q),
            "/sleep-service/sleep/dailySleepSummariesByDate": lambda: self._pa_sleep_range(a, path, q),
            "/wellness-service/wellness/dailyHeartRate": lambda: self._pa_heart_rate(a, q),
            "/wellness-service/wellness/bodyBattery/reports/daily": lambda: self._pa_battery(a, path, q),
            "/usersummary-service/v2/dailysummaries": lambda: self._pa_summaries(a, path, q),
            "/usersummary-service/usersummary/daily": lambda: self._pa_summary_day(a, q),
        }
        if path in routes:
            return routes[path]()
        parts = path.strip("/").split("/")
        if path.startswith("/activity-service/activity/") and len(parts) == 3 and parts[2].isdigit():
            act = self._find(a, parts[2])
            return act if isinstance(act, Reply) else json_reply(bodies.activity_summary(a, act))
        if path.startswith("/download-service/files/activity/") and len(parts) == 4 and parts[3].isdigit():
            if ZIP not in (headers.get("Accept") or ""):
                self._violation(f"download without Accept: {ZIP} ({path})")
                return json_reply({"message": "Not Acceptable"}, 406)
            return self._r_download(a, {}, b"", parts[3])
        if path.startswith("/hrv-service/hrv/daily/") and len(parts) == 5:
            return self._pa_hrv_range(a, path, parse_day(parts[3]), parse_day(parts[4]))
        if path.startswith("/hrv-service/hrv/") and len(parts) == 3:
            day = parse_day(parts[2])
            if day is None:
                return Reply(400, b"", None)
            w = a.wellness_day(day, self.clock.today(a.timezone))
            return (
                Reply(204, b"", None)
                if w is None or w.hrv_last_night is None
                else json_reply(bodies.hrv_day(a, w))
            )
        if path.startswith("/usersummary-service/stats/stress/daily/") and len(parts) == 6:
            return self._pa_stress(a, path, parse_day(parts[4]), parse_day(parts[5]))
        # Training Readiness, training status, exercise sets...: not in the Personal API.
        return json_reply({"message": "Not Found"}, 404)

    # -- helpers -----------------------------------------------------------------------------

    def _pa_days(self, a: SandboxAccount, lo: date, hi: date) -> list[WellnessValues]:
        today = self.clock.today(a.timezone)
        out, d = [], lo
        while d <= hi:
            w = a.wellness_day(d, today)
            if w is not None:
                out.append(w)
            d += timedelta(days=1)
        return out

    def _pa_span(self, path: str, lo: date | None, hi: date | None, cap: str) -> tuple[date, date] | Reply:
        """The range, or the 400 Garmin answers for a bad one or one over its cap."""
        if lo is None or hi is None or hi < lo:
            return Reply(400, b"", None)
        days = (hi - lo).days + 1
        if days > CAPS[cap]:
            self._violation(f"{days}-day range over the {CAPS[cap]}-day cap ({path})")
            return json_reply({"message": f"Range exceeds {CAPS[cap]} days"}, 400)
        return lo, hi

    def _query_span(self, path: str, q: dict[str, str], cap: str) -> tuple[date, date] | Reply:
        return self._pa_span(path, parse_day(q.get("startDate")), parse_day(q.get("endDate")), cap)

    def _pa_list(self, a: SandboxAccount, path: str, q: dict[str, str]) -> Reply:
        limit = q.get("limit")
        if limit is None or not limit.isdigit() or int(limit) > MAX_PAGE:
            self._violation(f"activity list with limit={limit!r} ({path})")
            return json_reply({"message": "Internal Server Error"}, 500)
        return self._r_list(a, q, b"")

    def _pa_sleep_dto(self, a: SandboxAccount, day: date) -> dict[str, Any]:
        w = a.wellness_day(day, self.clock.today(a.timezone))
        return bodies.sleep_day(a, day, w)["dailySleepDTO"]

    def _pa_sleep_day(self, a: SandboxAccount, q: dict[str, str]) -> Reply:
        day = parse_day(q.get("date"))
        return Reply(400, b"", None) if day is None else json_reply(self._pa_sleep_dto(a, day))

    def _pa_sleep_range(self, a: SandboxAccount, path: str, q: dict[str, str]) -> Reply:
        span = self._query_span(path, q, "sleep")
        if isinstance(span, Reply):
            return span
        lo, hi = span
        return json_reply([self._pa_sleep_dto(a, lo + timedelta(days=i)) for i in range((hi - lo).days + 1)])

    def _pa_heart_rate(self, a: SandboxAccount, q: dict[str, str]) -> Reply:
        day = parse_day(q.get("date"))
        if day is None:
            return Reply(400, b"", None)
        return json_reply(bodies.daily_heart_rate(a, day, a.wellness_day(day, self.clock.today(a.timezone))))

    def _pa_battery(self, a: SandboxAccount, path: str, q: dict[str, str]) -> Reply:
        span = self._query_span(path, q, "body_battery")
        if isinstance(span, Reply):
            return span
        return json_reply(bodies.body_battery_reports(a, self._pa_days(a, *span)))

    def _pa_summaries(self, a: SandboxAccount, path: str, q: dict[str, str]) -> Reply:
        span = self._query_span(path, q, "daily_summaries")
        if isinstance(span, Reply):
            return span
        lo, hi = span
        today = self.clock.today(a.timezone)
        days = [lo + timedelta(days=i) for i in range((hi - lo).days + 1)]
        return json_reply([bodies.daily_summary(a, d, a.wellness_day(d, today)) for d in days if d <= today])

    def _pa_summary_day(self, a: SandboxAccount, q: dict[str, str]) -> Reply:
        day = parse_day(q.get("calendarDate"))
        if day is None:
            return Reply(400, b"", None)
        return json_reply(bodies.daily_summary(a, day, a.wellness_day(day, self.clock.today(a.timezone))))

    def _pa_hrv_range(self, a: SandboxAccount, path: str, lo: date | None, hi: date | None) -> Reply:
        span = self._pa_span(path, lo, hi, "hrv")
        if isinstance(span, Reply):
            return span
        items = [w for w in self._pa_days(a, *span) if w.hrv_last_night is not None]
        if not items:
            return Reply(204, b"", None)
        return json_reply(
            {"hrvSummaries": [bodies.hrv_summary(a, w) for w in items], "userProfilePk": a.profile_id}
        )

    def _pa_stress(self, a: SandboxAccount, path: str, lo: date | None, hi: date | None) -> Reply:
        span = self._pa_span(path, lo, hi, "stress")
        if isinstance(span, Reply):
            return span
        return json_reply([bodies.daily_stress(a, w) for w in self._pa_days(a, *span)])


def is_personal_api(entry: LoggedRequest) -> bool:
    """Whether a logged request went to the Personal API host."""
    return entry.host.split(":")[0] == PERSONAL_API_HOST
