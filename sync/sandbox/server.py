"""The sandbox: a real HTTP server that answers like Garmin Connect, for tests and the demo.

Run it with `legday sandbox serve`, or in-process:

    with Sandbox(fit_dir=...) as sb:          # a thread on a free loopback port
        tokens = sb.issue_garth_tokens()
        settings = Settings(garmin_base_url=sb.url, ...)
        sb.faults.add("status", "/download-service", status=503, times=2)
        sb.log                                # every request: method, path, auth, status

It checks Bearer tokens and their expiry against a clock tests can move, serves garth's
OAuth1->OAuth2 exchange and the DI token endpoint (with refresh-token rotation), and refuses
SSO logins with a Cloudflare-style 429 unless told otherwise. Requests for the Personal API's
host (`personal.connectapi.garmin.com`) go to personal_api.py: its keys, tokens and limits.

This module holds the Sandbox itself (lifecycle, request log, fault injection, routing) and
the HTTP handler; the endpoints live in auth.py and the routes_*.py mixins.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from sync.garmin.backoff import parse_retry_after
from sync.sandbox.auth import (
    CLOUDFLARE_429,
    CONSUMER,
    DI_ACCESS_TTL_S,
    DI_CLIENT_ID,
    GARTH_ACCESS_TTL_S,
    WWW_AUTH_401,
    AuthMixin,
)
from sync.sandbox.faults import Faults, gzip_bomb
from sync.sandbox.model import (
    BEARER,
    LoggedRequest,
    Reply,
    SandboxAccount,
    SandboxClock,
)
from sync.sandbox.personal_api import PERSONAL_API_HOST, PersonalApiRoutes
from sync.sandbox.routes_activities import ActivityRoutes
from sync.sandbox.routes_user_profile import UserProfileRoutes
from sync.sandbox.routes_wellness import WellnessRoutes
from sync.sandbox.routes_workouts import WorkoutRoutes
from sync.sandbox.seed import (
    WellnessGenerator,
    layout_original,
    layout_recent,
    layout_year,
    load_fit_folder,
)

__all__ = [
    "CLOUDFLARE_429",
    "CONSUMER",
    "DI_ACCESS_TTL_S",
    "DI_CLIENT_ID",
    "GARTH_ACCESS_TTL_S",
    "WWW_AUTH_401",
    "LoggedRequest",
    "Route",
    "Sandbox",
    "SandboxAccount",
    "SandboxClock",
]

Route = tuple[str, re.Pattern[str], str, Callable[..., Reply]]
STOP_POLL_S = 0.2  # how soon `serve_forever` sees a stop signal
# How often the serving thread looks for `stop()`: socketserver's default (0.5 s) made every
# stop wait up to half a second, and tests start and stop a sandbox hundreds of times.
SHUTDOWN_POLL_S = 0.02


class Sandbox(AuthMixin, UserProfileRoutes, ActivityRoutes, WellnessRoutes, WorkoutRoutes, PersonalApiRoutes):
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
        self._access = {}
        self._di_refresh = {}
        self._di_used = set()
        self._next_workout = 900_000_001
        self._next_schedule = 1_400_000_001
        self._init_personal_api()
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
        self.accounts = {account.display_name: account}
        self._zips = {}
        self._host, self._port = host, port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._routes = self._build_routes()

    # -- lifecycle ---------------------------------------------------------------------------

    def add_account(self, account: SandboxAccount) -> SandboxAccount:
        """Register another Garmin user."""
        if account.wellness is None:
            account.wellness = WellnessGenerator(
                account.profile_id, self.clock.today(account.timezone) - timedelta(days=400)
            )
        self.accounts[account.display_name] = account
        return account

    def start(self) -> Sandbox:
        """Serve in a daemon thread; a second call while serving does nothing."""
        if self._thread is not None and self._thread.is_alive():
            # `legday sandbox serve` starts it (to know the URL and write tokens), then
            # calls serve_forever, which starts it too: binding the port twice failed.
            return self
        sandbox = self

        class Handler(_Handler):
            pass

        Handler.sandbox = sandbox
        self._server = _Server((self._host, self._port), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": SHUTDOWN_POLL_S},
            name="garmin-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self, stop: StopSignal | None = None) -> None:
        """Serve in the calling thread (the CLI), starting first unless `start()` already ran,
        until `stop` is received (default: `stop_on_signals()`, made here)."""
        if stop is None:
            stop = stop_on_signals()
        if self._server is None:
            self.start()
        assert self._thread is not None
        with contextlib.suppress(KeyboardInterrupt):
            while self._thread.is_alive() and not stop.received:
                time.sleep(STOP_POLL_S)  # a signal's handler runs during it
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
        assert isinstance(host, str), host  # an AF_INET server: typeshed allows bytes for AF_UNIX
        return f"http://{host}:{port}"

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

    def _over_budget(self, account: SandboxAccount) -> bool:
        """Count a request against the account's per-minute budget; True when it is spent."""
        if account.budget_per_minute is None:
            return False
        now = self.clock.now()
        with self._lock:
            account._recent = [t for t in account._recent if t > now - 60]
            if len(account._recent) >= account.budget_per_minute:
                return True
            account._recent.append(now)
        return False

    def handle(self, method: str, raw_path: str, headers: Any, body: bytes, writer: _Handler) -> Reply | None:
        """Answer one request (None: the connection was deliberately broken)."""
        parts = urlsplit(raw_path)
        path = parts.path
        query = dict(parse_qsl(parts.query))
        # The Personal API has a host of its own, with its own keys and tokens.
        personal = (headers.get("Host") or "").split(":")[0] == PERSONAL_API_HOST
        identify = self._pa_identify if personal else self._identify
        kind, account_name, bearer = identify(headers.get("Authorization", ""))
        entry = LoggedRequest(
            method, headers.get("Host", ""), path, query, kind, account_name, self.clock.now()
        )
        with self._lock:
            self.log.append(entry)
        if self.faults.latency_ms and not personal:  # the Personal API's is inside its in-flight count
            time.sleep(self.faults.latency_ms / 1000)
        reply = self._faulted(method, path, account_name, writer)
        if reply is None and writer.broken:
            entry.status = -1
            return None
        if reply is None and personal:
            reply = self._pa_route(method, path, query, headers, kind, bearer)
        elif reply is None:
            reply = self._route(method, path, query, headers, body, kind, account_name, bearer)
        entry.status = reply.status
        # Faults after the work: Garmin did what was asked, but its answer never arrives whole.
        after = self.faults.take(method, path, account_name, ("truncate_after", "reset_after"))
        if after is not None and after.kind == "reset_after":
            writer.reset()
            return None
        if after is not None:
            return dataclasses.replace(reply, truncate=True)
        if "Retry-After" in reply.headers:
            entry.retry_after = parse_retry_after(reply.headers["Retry-After"])
        return reply

    def _faulted(self, method: str, path: str, account: str | None, writer: _Handler) -> Reply | None:
        """Apply a matching injected fault (None: no fault, or the connection was broken)."""
        fault = self.faults.take(
            method, path, account, ("reset", "hang", "status", "cloudflare_429", "truncate", "gzip_bomb")
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
            return Reply(429, CLOUDFLARE_429, "text/html")
        if fault.kind == "gzip_bomb":
            # Garmin gzips its JSON; a hostile or broken proxy could send this instead.
            return Reply(200, gzip_bomb(fault.decoded), headers={"Content-Encoding": "gzip"})
        if fault.kind == "truncate":
            return Reply(200, b'{"truncated": "this body is cut short by the sandbox ... "}', truncate=True)
        headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
        return Reply(fault.status, fault.body or b"", "application/json" if fault.body else None, headers)

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
    ) -> Reply:
        """Find the route, check bearer auth and budget for bearer routes, and call it."""
        for route_method, pattern, auth, fn in self._routes:
            match = pattern.fullmatch(path)
            if not match or route_method != method:
                continue
            if auth == BEARER:
                expired = self.faults.take(method, path, account_name, ("expire_token",))
                if kind != "bearer" or expired or not self._bearer_ok(bearer) or account_name is None:
                    return Reply(401, b"", None, {"WWW-Authenticate": WWW_AUTH_401})
                account = self.accounts[account_name]
                if self._over_budget(account):
                    return Reply(429, b"", None)
                return fn(account, query, body, *match.groups())
            return fn(query, body, headers, account_name, *match.groups())
        if any(p.fullmatch(path) for _, p, _, _ in self._routes):
            return Reply(405, b"", None)
        return Reply(404, b"<html><body>Not Found</body></html>", "text/html")

    def _build_routes(self) -> list[Route]:
        """The routing table: every module's routes, in this order, regexes compiled."""
        table = [
            *self._auth_routes(),
            *self._profile_routes(),
            *self._activity_routes(),
            *self._wellness_routes(),
            *self._workout_routes(),
        ]
        return [(m, re.compile(p), a, fn) for m, p, a, fn in table]


@dataclasses.dataclass
class StopSignal:
    """Set by SIGINT or SIGTERM (`stop_on_signals`). A plain flag: a signal's handler runs
    between two bytecodes of the main thread, which may hold a lock right then (an Event's,
    inside its `wait`), so a handler that takes one can deadlock; assigning a bool takes none."""

    received: bool = False


def stop_on_signals() -> StopSignal:
    """A flag that SIGINT and SIGTERM set from now on (in the main thread; elsewhere a flag no
    signal sets). Made before anything is printed, so a signal sent as soon as the address shows
    stops the sandbox, and a KeyboardInterrupt never lands in the middle of a join or a print."""
    stop = StopSignal()

    def received(_signum: int, _frame: object) -> None:
        stop.received = True

    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, received)
    return stop


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
