"""The sandbox: a real HTTP server that answers like Garmin Connect, for tests and the demo.

Run it with `legday sandbox serve`, or in-process:

    with Sandbox(fit_dir=...) as sb:          # a thread on a free loopback port
        tokens = sb.issue_garth_tokens()
        settings = Settings(garmin_base_url=sb.url, ...)
        sb.faults.add("status", "/download-service", status=503, times=2)
        sb.log                                # every request: method, path, auth, status

It checks Bearer tokens and their expiry against a clock tests can move, serves garth's
OAuth1->OAuth2 exchange and the DI token endpoint (with refresh-token rotation), and refuses
SSO logins with a Cloudflare-style 429 unless told otherwise.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import re
import secrets
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo

from sync.garmin.sandbox import bodies
from sync.garmin.sandbox.faults import Faults
from sync.garmin.sandbox.seed import (
    SandboxActivity,
    SeedSet,
    WellnessGenerator,
    WellnessValues,
    layout_original,
    layout_recent,
    layout_year,
    load_fit_folder,
)
from sync.garmin.tokens import DITokens, GarthTokens

CONSUMER = {"consumer_key": "SANDBOX_CONSUMER_KEY", "consumer_secret": "SANDBOX_CONSUMER_SECRET"}
DI_CLIENT_ID = "GARMIN_CONNECT_MOBILE_ANDROID_DI_2025Q2"
GARTH_ACCESS_TTL_S = 105487  # recorded expires_in of the exchange
DI_ACCESS_TTL_S = 86399
CLOUDFLARE_429 = (
    b"<!DOCTYPE html><html><head><title>Access denied | sso.garmin.com used Cloudflare to "
    b"restrict access</title></head><body><h1>Error 1015</h1><p>You are being rate limited."
    b"</p></body></html>"
)
WWW_AUTH_401 = 'Bearer error="invalid_token", error_description="Token is not active"'


class SandboxClock:
    """Wall-clock time plus an offset tests can move forward."""

    def __init__(self) -> None:
        self.offset_s = 0.0

    def now(self) -> float:
        """Epoch seconds as the sandbox sees them."""
        return time.time() + self.offset_s

    def advance(self, seconds: float) -> None:
        """Move the sandbox's time forward (tokens expire, days pass)."""
        self.offset_s += seconds

    def today(self, tz: str) -> date:
        """The current date in a time zone."""
        return datetime.fromtimestamp(self.now(), ZoneInfo(tz)).date()


@dataclass
class LoggedRequest:
    """One request the sandbox saw."""

    method: str
    host: str
    path: str
    query: dict[str, str]
    auth: str | None  # bearer | oauth1 | basic | None
    account: str | None
    at: float  # sandbox clock
    status: int = 0


@dataclass
class SandboxAccount:
    """One Garmin user."""

    display_name: str = "example_user"
    full_name: str = "Example User"
    profile_id: int = 12345678
    timezone: str = "UTC"
    email: str = "example@example.com"
    password: str = "sandbox-password"
    activities: list[SandboxActivity] = field(default_factory=list)
    wellness: WellnessGenerator | None = None
    budget_per_minute: int | None = None  # requests per rolling minute; over it: 429
    oauth1: dict[str, str] = field(default_factory=dict)  # oauth_token -> secret
    workouts: dict[int, dict[str, Any]] = field(default_factory=dict)
    schedules: dict[int, dict[str, Any]] = field(default_factory=dict)
    _recent: list[float] = field(default_factory=list)

    def newest_first(self) -> list[SandboxActivity]:
        """Activities as the list endpoint orders them."""
        return sorted(self.activities, key=lambda a: (a.start, a.activity_id), reverse=True)

    def wellness_day(self, day: date, today: date) -> WellnessValues | None:
        """Generated wellness for a date (None: no data)."""
        return self.wellness.day(day, today) if self.wellness else None


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    content_type: str | None = "application/json;charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)
    truncate: bool = False


def _json(value: Any, status: int = 200) -> _Reply:
    return _Reply(status, json.dumps(bodies.jsonable(value)).encode())


def _parse_day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


Route = tuple[str, re.Pattern[str], str, Callable[..., _Reply]]


class Sandbox:
    """A Garmin Connect look-alike on a loopback port (see the module docstring)."""

    def __init__(
        self,
        *,
        fit_dir: Path | None = None,
        layout: str = "recent",
        timezone: str = "UTC",
        latency_ms: float = 0.0,
        seed: int = 1,
        wellness_days: int = 400,
        year_days: int = 365,
        host: str = "127.0.0.1",
        port: int = 0,
        sso: str = "blocked",
    ) -> None:
        self.clock = SandboxClock()
        self.faults = Faults(latency_ms=latency_ms)
        self.log: list[LoggedRequest] = []
        self.sso = sso  # "blocked" (Cloudflare 429) | "open" (serves the recorded login flow)
        self.garth_ttl_s = GARTH_ACCESS_TTL_S
        self.di_ttl_s = DI_ACCESS_TTL_S
        self._lock = threading.Lock()
        self._access: dict[str, tuple[str, float]] = {}  # bearer -> (account, expires at)
        self._di_refresh: dict[str, tuple[str, str]] = {}  # refresh -> (account, client id)
        self._di_used: set[str] = set()
        self._next_workout = 900_000_001
        self._next_schedule = 1_400_000_001
        account = SandboxAccount(timezone=timezone)
        today = self.clock.today(timezone)
        if fit_dir is not None:
            sources = load_fit_folder(Path(fit_dir))
            if layout == "recent":
                account.activities = layout_recent(sources, today - timedelta(days=1))
            elif layout == "year":
                account.activities = layout_year(sources, today - timedelta(days=1), year_days)
            elif layout == "original":
                account.activities = layout_original(sources)
            else:
                raise ValueError(f"unknown layout {layout!r} (recent | year | original)")
        strength_days = {
            a.start.astimezone(ZoneInfo(timezone)).date() for a in account.activities if a.is_strength
        }
        account.wellness = WellnessGenerator(seed, today - timedelta(days=wellness_days), strength_days)
        self.accounts: dict[str, SandboxAccount] = {account.display_name: account}
        self._zips: dict[int, bytes] = {}
        self._host, self._port = host, port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._routes = self._build_routes()

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def account(self) -> SandboxAccount:
        """The default account."""
        return next(iter(self.accounts.values()))

    def add_account(self, account: SandboxAccount) -> SandboxAccount:
        """Register another Garmin user."""
        if account.wellness is None:
            account.wellness = WellnessGenerator(
                account.profile_id, self.clock.today(account.timezone) - timedelta(days=400)
            )
        self.accounts[account.display_name] = account
        return account

    def start(self) -> Sandbox:
        """Serve in a daemon thread."""
        sandbox = self

        class Handler(_Handler):
            pass

        Handler.sandbox = sandbox
        self._server = _Server((self._host, self._port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="garmin-sandbox", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread (the CLI)."""
        self.start()
        assert self._thread is not None
        with contextlib.suppress(KeyboardInterrupt):
            while self._thread.is_alive():
                self._thread.join(0.5)
        self.stop()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL to put in `garmin_base_url`."""
        assert self._server is not None, "sandbox not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- tokens ------------------------------------------------------------------------------

    def _new_access(self, account: str, ttl: float) -> str:
        token = "sbx_" + secrets.token_urlsafe(24)
        with self._lock:
            self._access[token] = (account, self.clock.now() + ttl)
        return token

    def issue_garth_tokens(
        self, account: str | None = None, *, expires_in: float | None = None
    ) -> GarthTokens:
        """A garth token pair for `account`, as an old garth login would have left on disk."""
        acct = self.accounts[account] if account else self.account
        oauth_token = "sbx_oauth1_" + secrets.token_urlsafe(12)
        acct.oauth1[oauth_token] = "sbx_secret_" + secrets.token_urlsafe(12)
        ttl = self.garth_ttl_s if expires_in is None else expires_in
        oauth2 = self._exchange_body(acct.display_name, ttl)
        oauth2["expires_at"] = int(time.time() + ttl)
        oauth2["refresh_token_expires_at"] = int(time.time() + oauth2["refresh_token_expires_in"])
        return GarthTokens(
            oauth1={
                "oauth_token": oauth_token,
                "oauth_token_secret": acct.oauth1[oauth_token],
                "mfa_token": "sbx_mfa",
                "mfa_expiration_timestamp": "2027-03-18T05:33:02",
                "domain": "garmin.com",
            },
            oauth2=oauth2,
        )

    def _exchange_body(self, account: str, ttl: float) -> dict[str, Any]:
        body = bodies.template("token_exchange.json")
        body.update(
            access_token=self._new_access(account, ttl),
            refresh_token="sbx_unused_" + secrets.token_urlsafe(8),
            jti=secrets.token_hex(8),
            expires_in=int(ttl),
        )
        return body

    def _jwt(self, account: str, client_id: str, ttl: float) -> str:
        def seg(obj: dict[str, Any]) -> str:
            return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

        now = self.clock.now()
        header = {"alg": "RS256", "typ": "JWT", "kid": "sandbox"}
        payload = {
            "iss": "https://diauth.garmin.com",
            "client_id": client_id,
            "garmin_guid": f"sandbox-{account}",
            "scope": ["CONNECT_READ", "CONNECT_WRITE"],
            "iat": int(now),
            "exp": int(now + ttl),
            "jti": secrets.token_hex(8),
        }
        token = f"{seg(header)}.{seg(payload)}.{secrets.token_urlsafe(16)}"
        with self._lock:
            self._access[token] = (account, now + ttl)
        return token

    def issue_di_tokens(self, account: str | None = None, *, expires_in: float | None = None) -> DITokens:
        """A DI token store for `account`, as garminconnect >= 0.3 writes it."""
        acct = self.accounts[account] if account else self.account
        refresh = "sbx_di_refresh_" + secrets.token_urlsafe(16)
        self._di_refresh[refresh] = (acct.display_name, DI_CLIENT_ID)
        ttl = self.di_ttl_s if expires_in is None else expires_in
        return DITokens(
            di_token=self._jwt(acct.display_name, DI_CLIENT_ID, ttl),
            di_refresh_token=refresh,
            di_client_id=DI_CLIENT_ID,
        )

    def expire_all_tokens(self) -> None:
        """Every issued access token stops working now (refresh still works)."""
        with self._lock:
            self._access = {k: (a, 0.0) for k, (a, _) in self._access.items()}

    def revoke_refresh(self) -> None:
        """garth OAuth1 tokens and DI refresh tokens are refused from now on (needs re-auth)."""
        for acct in self.accounts.values():
            acct.oauth1.clear()
        self._di_refresh.clear()

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

    # -- log ---------------------------------------------------------------------------------

    def requests(self, path: str = "", *, method: str | None = None) -> list[LoggedRequest]:
        """Logged requests whose path matches the regex `path`."""
        with self._lock:
            items = list(self.log)
        return [r for r in items if re.search(path, r.path) and (method is None or r.method == method)]

    def clear_log(self) -> None:
        """Forget the requests seen so far."""
        with self._lock:
            self.log.clear()

    # -- request handling --------------------------------------------------------------------

    def _identify(self, authorization: str) -> tuple[str | None, str | None, str | None]:
        """(auth kind, account, bearer token) from an Authorization header."""
        if authorization.startswith("Bearer "):
            token = authorization[7:].strip()
            with self._lock:
                entry = self._access.get(token)
            return "bearer", entry[0] if entry else None, token
        if authorization.startswith("OAuth "):
            match = re.search(r'oauth_token="([^"]+)"', authorization)
            token = unquote(match.group(1)) if match else ""
            owner = next((a.display_name for a in self.accounts.values() if token in a.oauth1), None)
            return "oauth1", owner, None
        if authorization.startswith("Basic "):
            return "basic", None, None
        return None, None, None

    def _bearer_ok(self, token: str | None) -> bool:
        if not token:
            return False
        with self._lock:
            entry = self._access.get(token)
        return entry is not None and entry[1] > self.clock.now()

    def _over_budget(self, account: SandboxAccount) -> bool:
        if account.budget_per_minute is None:
            return False
        now = self.clock.now()
        with self._lock:
            account._recent = [t for t in account._recent if t > now - 60]
            if len(account._recent) >= account.budget_per_minute:
                return True
            account._recent.append(now)
        return False

    def handle(
        self, method: str, raw_path: str, headers: Any, body: bytes, writer: _Handler
    ) -> _Reply | None:
        """Answer one request (None: the connection was deliberately broken)."""
        parts = urlsplit(raw_path)
        path = parts.path
        query = dict(parse_qsl(parts.query))
        kind, account_name, bearer = self._identify(headers.get("Authorization", ""))
        entry = LoggedRequest(
            method, headers.get("Host", ""), path, query, kind, account_name, self.clock.now()
        )
        with self._lock:
            self.log.append(entry)
        if self.faults.latency_ms:
            time.sleep(self.faults.latency_ms / 1000)
        reply = self._faulted(method, path, account_name, writer)
        if reply is None and writer.broken:
            entry.status = -1
            return None
        if reply is None:
            reply = self._route(method, path, query, headers, body, kind, account_name, bearer)
        entry.status = reply.status
        return reply

    def _faulted(self, method: str, path: str, account: str | None, writer: _Handler) -> _Reply | None:
        fault = self.faults.take(
            method, path, account, ("reset", "hang", "status", "cloudflare_429", "truncate")
        )
        if fault is None:
            return None
        if fault.kind == "reset":
            writer.reset()
            return None
        if fault.kind == "hang":
            time.sleep(fault.seconds)
            return None
        if fault.kind == "cloudflare_429":
            return _Reply(429, CLOUDFLARE_429, "text/html")
        if fault.kind == "truncate":
            return _Reply(200, b'{"truncated": "this body is cut short by the sandbox ... "}', truncate=True)
        headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
        return _Reply(fault.status, fault.body or b"", "application/json" if fault.body else None, headers)

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: Any,
        body: bytes,
        kind: str | None,
        account_name: str | None,
        bearer: str | None,
    ) -> _Reply:
        for route_method, pattern, auth, fn in self._routes:
            match = pattern.fullmatch(path)
            if not match or route_method != method:
                continue
            if auth == "bearer":
                expired = self.faults.take(method, path, account_name, ("expire_token",))
                if kind != "bearer" or expired or not self._bearer_ok(bearer) or account_name is None:
                    return _Reply(401, b"", None, {"WWW-Authenticate": WWW_AUTH_401})
                account = self.accounts[account_name]
                if self._over_budget(account):
                    return _Reply(429, b"", None)
                return fn(account, query, body, *match.groups())
            return fn(query, body, headers, account_name, *match.groups())
        if any(p.fullmatch(path) for _, p, _, _ in self._routes):
            return _Reply(405, b"", None)
        return _Reply(404, b"<html><body>Not Found</body></html>", "text/html")

    # -- routes ------------------------------------------------------------------------------

    def _build_routes(self) -> list[Route]:
        b = "bearer"
        o = "open"
        table: list[tuple[str, str, str, Callable[..., _Reply]]] = [
            ("GET", r"/oauth_consumer\.json", o, self._r_consumer),
            ("POST", r"/oauth-service/oauth/exchange/user/2\.0", o, self._r_exchange),
            ("POST", r"/di-oauth2-service/oauth/token", o, self._r_di_token),
            ("GET", r"/oauth-service/oauth/preauthorized", o, self._r_preauthorized),
            ("GET", r"/mobile/sso/en/sign-in", o, self._r_sso_page),
            ("GET", r"/portal/sso/embed", o, self._r_sso_page),
            ("POST", r"/mobile/api/login", o, self._r_sso_login),
            ("POST", r"/mobile/api/mfa/verifyCode", o, self._r_sso_mfa),
            ("GET", r"/userprofile-service/socialProfile", b, self._r_profile),
            ("GET", r"/userprofile-service/userprofile/user-settings", b, self._r_settings),
            ("GET", r"/userprofile-service/userprofile/personal-information", b, self._r_personal),
            (
                "GET",
                r"/biometric-service/heartRateZones",
                b,
                lambda a, q, body: _json(bodies.template("heart_rate_zones.json")),
            ),
            ("GET", r"/activitylist-service/activities/search/activities", b, self._r_list),
            ("GET", r"/activity-service/activity/(\d+)", b, self._r_activity),
            ("GET", r"/activity-service/activity/(\d+)/exerciseSets", b, self._r_sets),
            ("GET", r"/download-service/files/activity/(\d+)", b, self._r_download),
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
            (
                "GET",
                r"/metrics-service/metrics/trainingstatus/aggregated/([\d-]+)",
                b,
                lambda a, q, body, d: _json(bodies.training_status_aggregated(a, date.fromisoformat(d))),
            ),
            (
                "GET",
                r"/mobile-gateway/usersummary/trainingstatus/latest/([\d-]+)",
                b,
                lambda a, q, body, d: _json(bodies.template("training_status.json")),
            ),
            ("GET", r"/usersummary-service/usersummary/daily/?([^/]*)", b, self._r_daily_summary),
            ("POST", r"/workout-service/workout", b, self._r_workout_create),
            ("GET", r"/workout-service/workout/(\d+)", b, self._r_workout_get),
            ("PUT", r"/workout-service/workout/(\d+)", b, self._r_workout_put),
            ("DELETE", r"/workout-service/workout/(\d+)", b, self._r_workout_delete),
            ("POST", r"/workout-service/schedule/(\d+)", b, self._r_schedule),
            ("GET", r"/workout-service/schedule/(\d+)", b, self._r_schedule_get),
            ("DELETE", r"/workout-service/schedule/(\d+)", b, self._r_schedule_delete),
        ]
        return [(m, re.compile(p), a, fn) for m, p, a, fn in table]

    # open routes: fn(query, body, headers, account, *groups)

    def _r_consumer(self, q: dict[str, str], body: bytes, headers: Any, account: str | None) -> _Reply:
        return _json(CONSUMER)

    def _r_exchange(self, q: dict[str, str], body: bytes, headers: Any, account: str | None) -> _Reply:
        auth = headers.get("Authorization", "")
        if not auth.startswith("OAuth ") or account is None:
            return _Reply(401, b"", None)
        consumer = re.search(r'oauth_consumer_key="([^"]+)"', auth)
        if not consumer or unquote(consumer.group(1)) != CONSUMER["consumer_key"]:
            return _Reply(401, b"", None)
        return _json(self._exchange_body(account, self.garth_ttl_s))

    def _r_di_token(self, q: dict[str, str], body: bytes, headers: Any, account: str | None) -> _Reply:
        form = dict(parse_qsl(body.decode()))
        basic = headers.get("Authorization", "")
        client_id = form.get("client_id", "")
        expected = "Basic " + base64.b64encode(f"{client_id}:".encode()).decode()
        if basic != expected:
            return _json({"error": "invalid_client", "error_description": "Bad client credentials"}, 401)
        if form.get("grant_type") != "refresh_token":
            return _json({"error": "unsupported_grant_type"}, 400)
        refresh = form.get("refresh_token", "")
        owner = self._di_refresh.pop(refresh, None)
        if owner is None or owner[1] != client_id:
            desc = "Refresh token already used" if refresh in self._di_used else "Invalid refresh token"
            return _json({"error": "invalid_grant", "error_description": desc}, 400)
        self._di_used.add(refresh)
        new_refresh = "sbx_di_refresh_" + secrets.token_urlsafe(16)
        self._di_refresh[new_refresh] = owner
        reply = bodies.template("di_token_response.json")
        reply.update(
            access_token=self._jwt(owner[0], client_id, self.di_ttl_s),
            refresh_token=new_refresh,
            expires_in=int(self.di_ttl_s),
            jti=secrets.token_hex(8),
        )
        return _json(reply)

    def _sso_blocked(self) -> _Reply | None:
        return _Reply(429, CLOUDFLARE_429, "text/html") if self.sso != "open" else None

    def _r_sso_page(self, q: dict[str, str], body: bytes, headers: Any, account: str | None) -> _Reply:
        return self._sso_blocked() or _Reply(200, b"<html><body>sign in</body></html>", "text/html")

    def _r_sso_login(self, q: dict[str, str], body: bytes, headers: Any, account: str | None) -> _Reply:
        blocked = self._sso_blocked()
        if blocked:
            return blocked
        try:
            creds = json.loads(body or b"{}")
        except ValueError:
            creds = dict(parse_qsl(body.decode()))
        user = next(
            (
                a
                for a in self.accounts.values()
                if a.email == creds.get("username") and a.password == creds.get("password")
            ),
            None,
        )
        if user is None:
            return _json(bodies.template("sso_login_invalid_credentials.json"), 401)
        if creds.get("mfa"):
            return _json(bodies.template("sso_login_mfa_required.json"))
        return _json(bodies.template("sso_login_successful.json"))

    def _r_sso_mfa(self, q: dict[str, str], body: bytes, headers: Any, account: str | None) -> _Reply:
        return self._sso_blocked() or _json(bodies.template("sso_mfa_verify_successful.json"))

    def _r_preauthorized(self, q: dict[str, str], body: bytes, headers: Any, account: str | None) -> _Reply:
        blocked = self._sso_blocked()
        if blocked:
            return blocked
        acct = self.account
        token = "sbx_oauth1_" + secrets.token_urlsafe(12)
        acct.oauth1[token] = "sbx_secret_" + secrets.token_urlsafe(12)
        text = bodies.oauth1_preauthorized(token, acct.oauth1[token], "sbx_mfa")
        return _Reply(200, text.encode(), "text/plain")

    # bearer routes: fn(account, query, body, *groups)

    def _r_profile(self, a: SandboxAccount, q: dict[str, str], body: bytes) -> _Reply:
        return _json(bodies.social_profile(a))

    def _r_settings(self, a: SandboxAccount, q: dict[str, str], body: bytes) -> _Reply:
        return _json(bodies.user_settings(a))

    def _r_personal(self, a: SandboxAccount, q: dict[str, str], body: bytes) -> _Reply:
        return _json(bodies.personal_information(a))

    def _r_list(self, a: SandboxAccount, q: dict[str, str], body: bytes) -> _Reply:
        try:
            start = int(q.get("start", 0))
            limit = min(int(q.get("limit", 20)), 1000)
        except ValueError:
            return _Reply(400, b"", None)
        tz = ZoneInfo(a.timezone)
        acts = a.newest_first()
        lo, hi = _parse_day(q.get("startDate")), _parse_day(q.get("endDate"))
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
        return _json([bodies.activity_list_item(a, x) for x in acts[start : start + limit]])

    def _find(self, a: SandboxAccount, activity_id: str) -> tuple[SandboxActivity | None, _Reply | None]:
        wanted = int(activity_id)
        for act in a.activities:
            if act.activity_id == wanted:
                return act, None
        for other in self.accounts.values():
            if other is not a and any(x.activity_id == wanted for x in other.activities):
                return None, _json(bodies.template("error_403_not_owner.json"), 403)
        return None, _json(bodies.template("error_404_not_found.json"), 404)

    def _r_activity(self, a: SandboxAccount, q: dict[str, str], body: bytes, aid: str) -> _Reply:
        act, err = self._find(a, aid)
        return err or _json(bodies.activity_summary(a, act))  # type: ignore[arg-type]

    def _r_sets(self, a: SandboxAccount, q: dict[str, str], body: bytes, aid: str) -> _Reply:
        act, err = self._find(a, aid)
        return err or _json(bodies.exercise_sets(act))  # type: ignore[arg-type]

    def _r_download(self, a: SandboxAccount, q: dict[str, str], body: bytes, aid: str) -> _Reply:
        act, err = self._find(a, aid)
        if err:
            return err
        assert act is not None
        if act.activity_id not in self._zips:
            self._zips[act.activity_id] = bodies.fit_zip(act)
        data = self._zips[act.activity_id]
        if self.faults.take(
            "GET", f"/download-service/files/activity/{aid}", a.display_name, ("truncated_zip",)
        ):
            data = data[: len(data) // 2]
        return _Reply(
            200,
            data,
            "application/x-zip-compressed",
            {"Content-Disposition": f'attachment; filename="{act.activity_id}.zip"'},
        )

    def _today(self, a: SandboxAccount) -> date:
        return self.clock.today(a.timezone)

    def _range(self, a: SandboxAccount, lo: date, hi: date) -> list[WellnessValues]:
        today = self._today(a)
        out = []
        d = lo
        while d <= hi:
            w = a.wellness_day(d, today)
            if w is not None:
                out.append(w)
            d += timedelta(days=1)
        return out

    def _r_hrv_day(self, a: SandboxAccount, q: dict[str, str], body: bytes, day: str) -> _Reply:
        w = a.wellness_day(date.fromisoformat(day), self._today(a))
        if w is None or w.hrv_last_night is None:
            return _Reply(204, b"", None)
        return _json(bodies.hrv_day(a, w))

    def _r_hrv_range(self, a: SandboxAccount, q: dict[str, str], body: bytes, lo: str, hi: str) -> _Reply:
        start, end = _parse_day(lo), _parse_day(hi)
        if start is None or end is None or end < start:
            return _Reply(400, b"", None)
        if (end - start).days > 27:
            return _json({"message": "Date range too large", "error": "BadRequestException"}, 400)
        items = [w for w in self._range(a, start, end) if w.hrv_last_night is not None]
        if not items:
            return _Reply(204, b"", None)
        return _json(
            {"hrvSummaries": [bodies.hrv_summary(a, w) for w in items], "userProfilePk": a.profile_id}
        )

    def _sleep(self, a: SandboxAccount, q: dict[str, str], *, wellness_service: bool) -> _Reply:
        day = _parse_day(q.get("date"))
        if day is None:
            return _Reply(400, b"", None)
        w = a.wellness_day(day, self._today(a))
        return _json(bodies.sleep_day(a, day, w, wellness_service=wellness_service))

    def _r_sleep(self, a: SandboxAccount, q: dict[str, str], body: bytes) -> _Reply:
        return self._sleep(a, q, wellness_service=False)

    def _r_sleep_named(self, a: SandboxAccount, q: dict[str, str], body: bytes, name: str) -> _Reply:
        if name != a.display_name:
            return _json({"message": "HTTP 403 Forbidden", "error": "ForbiddenException"}, 403)
        return self._sleep(a, q, wellness_service=True)

    def _r_sleep_scores(self, a: SandboxAccount, q: dict[str, str], body: bytes, lo: str, hi: str) -> _Reply:
        start, end = _parse_day(lo), _parse_day(hi)
        if start is None or end is None:
            return _Reply(400, b"", None)
        return _json(bodies.sleep_scores(self._range(a, start, end)))

    def _r_heart_rate(self, a: SandboxAccount, q: dict[str, str], body: bytes) -> _Reply:
        day = _parse_day(q.get("date"))
        if day is None:
            return _Reply(400, b"", None)
        return _json(bodies.daily_heart_rate(a, day, a.wellness_day(day, self._today(a))))

    def _r_heart_rate_named(self, a: SandboxAccount, q: dict[str, str], body: bytes, name: str) -> _Reply:
        if name != a.display_name:
            return _json({"message": "HTTP 403 Forbidden", "error": "ForbiddenException"}, 403)
        return self._r_heart_rate(a, q, body)

    def _r_rhr_range(self, a: SandboxAccount, q: dict[str, str], body: bytes, name: str) -> _Reply:
        if name != a.display_name:
            return _json({"message": "HTTP 403 Forbidden", "error": "ForbiddenException"}, 403)
        start, end = _parse_day(q.get("fromDate")), _parse_day(q.get("untilDate"))
        if start is None or end is None:
            return _Reply(400, b"", None)
        return _json(bodies.resting_hr_range(a, self._range(a, start, end), start, end))

    def _r_stress(self, a: SandboxAccount, q: dict[str, str], body: bytes, day: str) -> _Reply:
        w = a.wellness_day(date.fromisoformat(day), self._today(a))
        return _Reply(200, b"null") if w is None else _json(bodies.daily_stress(a, w))

    def _r_bb_events(self, a: SandboxAccount, q: dict[str, str], body: bytes, day: str) -> _Reply:
        w = a.wellness_day(date.fromisoformat(day), self._today(a))
        return _json([] if w is None else bodies.body_battery_events(a, w))

    def _r_bb_reports(self, a: SandboxAccount, q: dict[str, str], body: bytes) -> _Reply:
        start, end = _parse_day(q.get("startDate")), _parse_day(q.get("endDate"))
        if start is None or end is None:
            return _Reply(400, b"", None)
        return _json(bodies.body_battery_reports(a, self._range(a, start, end)))

    def _r_readiness(self, a: SandboxAccount, q: dict[str, str], body: bytes, day: str) -> _Reply:
        w = a.wellness_day(date.fromisoformat(day), self._today(a))
        return _json([] if w is None or w.readiness is None else bodies.training_readiness(a, w))

    def _r_daily_summary(self, a: SandboxAccount, q: dict[str, str], body: bytes, name: str) -> _Reply:
        if name and name != a.display_name:
            return _json({"message": "HTTP 403 Forbidden", "error": "ForbiddenException"}, 403)
        day = _parse_day(q.get("calendarDate"))
        if day is None:
            return _Reply(400, b"", None)
        return _json(bodies.daily_summary(a, day, a.wellness_day(day, self._today(a))))

    def _r_workout_create(self, a: SandboxAccount, q: dict[str, str], body: bytes) -> _Reply:
        try:
            request = json.loads(body)
        except ValueError:
            return _Reply(400, b"", None)
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
        return _json(workout)

    def _r_workout_get(self, a: SandboxAccount, q: dict[str, str], body: bytes, wid: str) -> _Reply:
        workout = a.workouts.get(int(wid))
        return _json(workout) if workout else _json(bodies.template("error_404_not_found.json"), 404)

    def _r_workout_put(self, a: SandboxAccount, q: dict[str, str], body: bytes, wid: str) -> _Reply:
        if int(wid) not in a.workouts:
            return _json(bodies.template("error_404_not_found.json"), 404)
        a.workouts[int(wid)].update(json.loads(body or b"{}"), workoutId=int(wid))
        return _Reply(204, b"", None)

    def _r_workout_delete(self, a: SandboxAccount, q: dict[str, str], body: bytes, wid: str) -> _Reply:
        if a.workouts.pop(int(wid), None) is None:
            return _json(bodies.template("error_404_not_found.json"), 404)
        return _Reply(204, b"", None)

    def _r_schedule(self, a: SandboxAccount, q: dict[str, str], body: bytes, wid: str) -> _Reply:
        workout = a.workouts.get(int(wid))
        if workout is None:
            return _json(bodies.template("error_404_not_found.json"), 404)
        day = _parse_day((json.loads(body or b"{}") or {}).get("date"))
        if day is None:
            return _Reply(400, b"", None)
        with self._lock:
            schedule_id = self._next_schedule
            self._next_schedule += 1
        reply = bodies.template("workout_schedule_response.json")
        reply.update(workoutScheduleId=schedule_id, calendarDate=day.isoformat())
        reply["workout"].update({k: workout[k] for k in reply["workout"] if k in workout})
        a.schedules[schedule_id] = reply
        return _json(reply)

    def _r_schedule_get(self, a: SandboxAccount, q: dict[str, str], body: bytes, sid: str) -> _Reply:
        item = a.schedules.get(int(sid))
        return _json(item) if item else _json(bodies.template("error_404_not_found.json"), 404)

    def _r_schedule_delete(self, a: SandboxAccount, q: dict[str, str], body: bytes, sid: str) -> _Reply:
        if a.schedules.pop(int(sid), None) is None:
            return _json(bodies.template("error_404_not_found.json"), 404)
        return _Reply(204, b"", None)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Broken connections are on purpose here; keep stderr quiet."""


class _Handler(BaseHTTPRequestHandler):
    sandbox: Sandbox
    protocol_version = "HTTP/1.1"
    server_version = "Garmin-Sandbox"
    broken = False

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """The sandbox keeps its own structured log."""

    def setup(self) -> None:
        """No Nagle: headers and body leave at once (else delayed ACKs add ~40 ms a request)."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def reset(self) -> None:
        """Drop the connection with a TCP RST."""
        self.broken = True
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()

    def _dispatch(self, method: str) -> None:
        self.broken = False
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        reply = self.sandbox.handle(method, self.path, self.headers, body, self)
        if reply is None or self.broken:
            if not self.broken:  # hang fault ended: answer nothing and drop the line
                self.reset()
            return
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        if reply.content_type and (reply.body or reply.status != 204):
            self.send_header("Content-Type", reply.content_type)
        if reply.status != 204:
            self.send_header("Content-Length", str(len(reply.body)))
        if reply.truncate:
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(reply.body[: len(reply.body) // 2])
            self.wfile.flush()
            self.reset()
            return
        self.end_headers()
        if reply.body and self.command != "HEAD":
            self.wfile.write(reply.body)

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        """GET."""
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        """POST."""
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        """PUT."""
        self._dispatch("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        """DELETE."""
        self._dispatch("DELETE")
