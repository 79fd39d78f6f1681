"""legday's Garmin Connect client: transport and auth, and the only module that imports garth.

A small surface of our own over garth's session, so garth (unmaintained since March 2026) can
be swapped out behind it. The endpoints (profile, activities, FIT download, wellness,
workouts) live in their own modules as mixins over `Transport` and return typed records
(sync/garmin/records.py); this module only sends, authenticates and maps errors.

What it adds to garth:
- one setting (`garmin_base_url`) sends every Garmin host to another server (the sandbox),
  through an HTTPAdapter that rewrites the URL but keeps garth's urllib3 retry logic;
- a timeout on every request, and a count of every HTTP request (retries included);
- a 401 is refreshed once and retried once (garth never does), then it is `GarminAuthError`;
- 429 is `GarminRateLimited` at once (urllib3 must not sleep minutes inside a call);
- 5xx / resets / timeouts are retried with bounded backoff, then `GarminUnavailable`; a POST
  whose answer was lost (cut short, reset, timed out) is never re-sent: `GarminAnswerLost`;
- 204 / empty / `null` bodies are "no data" (None), never an error;
- every body is read with a cap on its decoded size (sync/garmin/decoding.py): a gzip bomb is
  one refused call (`GarminBadResponse`, or `UnsafeArchiveError` for a download), never memory;
- both token kinds: garth's OAuth1->OAuth2 exchange and DI Bearer tokens with refresh.
Refreshed tokens are handed to `on_refresh` every time, so the caller can persist them.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import requests

# garth builds a module-level `Client()` when it is imported, and that client reads
# GARTH_TELEMETRY_* (print a session id, set up logfire, ship response bodies: health data) and
# GARTH_HOME / GARTH_TOKEN (load tokens from disk) from the environment. legday's tokens come
# from its database and its telemetry is off, so those variables are removed from this
# process before garth is imported: nothing in the environment can switch them on here.
with warnings.catch_warnings():
    for _name in [n for n in os.environ if n.upper().startswith(("GARTH_TELEMETRY_", "GARTH_HOME"))]:
        del os.environ[_name]
    os.environ.pop("GARTH_TOKEN", None)
    # garth warns on import that it is unmaintained; we know (DESIGN.md section 2).
    warnings.simplefilter("ignore", DeprecationWarning)
    from garth import http as _garth_http
    from garth import sso as garth_sso
    from garth.auth_tokens import OAuth1Token, OAuth2Token
    from garth.exc import GarthHTTPError
    from garth.http import Client as _GarthClient
from requests import Response
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import ConnectionPool
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from sync.config import Settings
from sync.errors import UnsafeArchiveError
from sync.garmin import endpoints as ep
from sync.garmin.activities import ActivityCalls
from sync.garmin.backoff import Pacer, parse_retry_after, retry_delay
from sync.garmin.budget import global_budget_from
from sync.garmin.capabilities import CONNECT_API, Capabilities
from sync.garmin.decoding import ACCEPT_ENCODING, BodyRefused, BodyUndecodable, read_capped
from sync.garmin.errors import (
    GarminAnswerLost,
    GarminAuthError,
    GarminBadResponse,
    GarminRateLimited,
    GarminUnavailable,
    error_for_status,
)
from sync.garmin.tokens import ConnectTokens, DITokens, GarthTokens, Tokens, jwt_claims
from sync.garmin.user_profile import UserProfileCalls
from sync.garmin.wellness import WellnessCalls
from sync.garmin.workouts import WorkoutCalls

log = logging.getLogger(__name__)


class _DropDebug(logging.Filter):
    """Drops a logger's DEBUG/INFO records, whatever level logging is turned up to."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


# garth signs its OAuth1 exchange with requests-oauthlib, whose loggers (and oauthlib's) print
# the OAuth1 token, signed Authorization headers and OAuth2 tokens at DEBUG. A filter on each
# emitting logger drops those records at the source: a logger's level could be raised back by
# anyone turning on DEBUG, a filter cannot. (Logger filters do not apply to child loggers,
# hence every module logger by name.)
_TOKEN_LOGGING_LOGGERS = (
    "oauthlib",
    "oauthlib.oauth1.rfc5849",
    "oauthlib.oauth1.rfc5849.signature",
    "oauthlib.oauth2.rfc6749",
    "requests_oauthlib",
    "requests_oauthlib.oauth1_auth",
    "requests_oauthlib.oauth1_session",
    "requests_oauthlib.oauth2_session",
)
for _name in _TOKEN_LOGGING_LOGGERS:
    logging.getLogger(_name).addFilter(_DropDebug())

DI_USER_AGENT = "GCM-Android-5.23"
# Refresh a little before expiry so a request never leaves with a token about to die.
GARTH_REFRESH_MARGIN_S = 60.0
DI_REFRESH_MARGIN_S = 900.0  # garminconnect's own margin


class RequestCounter:
    """Counts HTTP requests that reached the wire, including urllib3's retries."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.total = 0

    def add(self, n: int = 1) -> None:
        """Record `n` more requests."""
        with self._lock:
            self.total += n


class _CountingRetry(Retry):
    """urllib3 Retry that counts each retry it allows (each one is another request)."""

    counter: RequestCounter | None = None

    def new(self, **kw: Any) -> _CountingRetry:
        retry = super().new(**kw)
        retry.counter = self.counter
        return retry

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        # urllib3's own signature, so the pool's keyword calls reach it unchanged. Raises
        # MaxRetryError when the retries are exhausted.
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        if self.counter is not None:
            self.counter.add()
        return retry


class ReplyRefused(requests.exceptions.RequestException):
    """A reply body refused by the decoded-size cap (or an encoding not asked for)."""


class _GarminAdapter(HTTPAdapter):
    """Counts requests, enforces a timeout, caps decoded bodies, and (sandbox) rewrites
    https://{host} to base_url."""

    def __init__(
        self,
        *,
        base_url: str | None,
        counter: RequestCounter,
        timeout: float,
        max_retries: Retry,
        max_body: int,
    ) -> None:
        super().__init__(max_retries=max_retries)
        self.base_url = base_url.rstrip("/") if base_url else None
        self.counter = counter
        self.timeout = timeout
        self.max_body = max_body

    # requests calls `send(request, **kwargs)` by keyword; they pass through to HTTPAdapter.send
    # unchanged, so the override takes them as such instead of repeating its five parameters.
    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        if self.base_url and request.url:
            parts = urlsplit(request.url)
            request.headers["Host"] = parts.netloc  # the sandbox routes like Garmin's hosts
            query = f"?{parts.query}" if parts.query else ""
            request.url = f"{self.base_url}{parts.path}{query}"
        # Only encodings our bounded decoder reads (requests may offer br or zstd too).
        request.headers["Accept-Encoding"] = ACCEPT_ENCODING
        self.counter.add()
        resp = super().send(request, **kwargs)
        if not kwargs.get("stream"):
            # requests would inflate the whole body (`.content`): read it here, capped, instead.
            # Streamed bodies (downloads) are read by the client with their own cap.
            try:
                resp._content = read_capped(  # noqa: SLF001 - the documented preload slot
                    resp.raw.stream(64 * 1024, decode_content=False),
                    resp.headers.get("Content-Encoding"),
                    self.max_body,
                )
            except BodyRefused as exc:
                resp.close()  # the rest is unread: the connection must not go back to the pool
                raise ReplyRefused(f"the reply {exc}", response=resp) from None
            except (BodyUndecodable, Urllib3Error, OSError) as exc:
                resp.close()
                raise requests.exceptions.ChunkedEncodingError(type(exc).__name__) from None
            # requests' private "body read" flag (Response.content sets it after a read); the
            # stubs of types-requests leave private members out.
            resp._content_consumed = True  # type: ignore[attr-defined]  # noqa: SLF001
            resp.raw.release_conn()
        return resp


def _drop_telemetry(_data: dict) -> None:
    """Where garth's telemetry would go: nowhere."""


# And should garth have been imported before this module, its global client is pinned off too.
_garth_http.client.telemetry.configure(enabled=False, send_to_logfire=False, callback=_drop_telemetry)


class _Garth(_GarthClient):
    """garth's client with our adapter re-mounted after every configure()."""

    def __init__(self, adapter_factory: Callable[[Retry], HTTPAdapter], **kwargs: Any) -> None:
        self._adapter_factory = adapter_factory
        # garth 0.8 reads GARTH_TELEMETRY_* from the environment and, when enabled, ships every
        # response body (health data) to a third party. Pinned off here, whatever the
        # environment says; the callback drops anything that might still be captured.
        super().__init__(
            telemetry_enabled=False,
            telemetry_send_to_logfire=False,
            telemetry_callback=_drop_telemetry,
            **kwargs,
        )

    # garth's fifteen keywords pass through unchanged (both garth and we call it by keyword), so
    # the override takes them as **kwargs instead of repeating them for a pinned library.
    def configure(self, /, **kwargs: Any) -> None:  # type: ignore[override]
        super().configure(**kwargs)
        old = self.sess.adapters["https://"]
        assert isinstance(old, HTTPAdapter), old  # garth mounts requests' HTTPAdapter
        self.sess.mount("https://", self._adapter_factory(old.max_retries))

    def _auto_resume(self) -> None:
        """Tokens come from our database only, never from GARTH_HOME / GARTH_TOKEN."""


class GarminClient(UserProfileCalls, ActivityCalls, WellnessCalls, WorkoutCalls):
    """The calls legday makes to Garmin Connect, for one account.

    This class is the transport and the auth; the calls themselves (paths, answers turned into
    records) come from the endpoint mixins in `profile`, `activities`, `wellness`, `workouts`.
    """

    capabilities: Capabilities = CONNECT_API

    def __init__(
        self,
        tokens: ConnectTokens,
        settings: Settings,
        *,
        on_refresh: Callable[[Tokens], None] | None = None,
        counter: RequestCounter | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.tokens: ConnectTokens = tokens  # a Personal API key has its own client
        self.on_refresh = on_refresh
        self.counter = counter or RequestCounter()
        self.display_name: str | None = None
        self._clock = clock
        self._sleep = sleep
        self._pacer = Pacer(settings.garmin_min_interval_s, sleep=sleep, budget=global_budget_from(settings))
        self._timeout = settings.garmin_timeout_s
        self._base_url = settings.garmin_base_url
        self.domain = (
            tokens.domain if isinstance(tokens, GarthTokens) and tokens.domain else None
        ) or settings.garmin_domain
        self._garth = _Garth(self._make_adapter)
        self._garth.configure(
            domain=self.domain,
            timeout=self._timeout,
            retries=settings.garmin_retries,
            backoff_factor=settings.garmin_backoff_s,
            status_forcelist=(500, 502, 503, 504),
        )
        if isinstance(tokens, GarthTokens):
            self._garth.oauth1_token = OAuth1Token(**tokens.oauth1)
            self._garth.oauth2_token = OAuth2Token(**tokens.oauth2) if tokens.oauth2 else None

    def __repr__(self) -> str:
        return f"GarminClient(kind={self.tokens.kind}, domain={self.domain!r}, requests={self.requests})"

    @property
    def requests(self) -> int:
        """HTTP requests made so far by this client (retries and token refreshes included)."""
        return self.counter.total

    # -- transport ---------------------------------------------------------------------------

    def _make_adapter(self, old_retry: Retry) -> HTTPAdapter:
        # Keep garth's retry settings, but never let urllib3 sleep on Retry-After inside a call
        # (a worker must not block for minutes): a 429 surfaces at once and the account waits.
        retry = _CountingRetry(
            total=old_retry.total,
            status_forcelist=old_retry.status_forcelist,
            backoff_factor=old_retry.backoff_factor,
            backoff_max=8.0,
            respect_retry_after_header=False,
            allowed_methods=old_retry.allowed_methods,
        )
        retry.counter = self.counter
        return _GarminAdapter(
            base_url=self._base_url,
            counter=self.counter,
            timeout=self._timeout,
            max_retries=retry,
            max_body=self.settings.garmin_max_body_bytes,
        )

    def _url(self, subdomain: str, path: str) -> str:
        return f"https://{subdomain}.{self.domain}{path}"

    def _auth_header(self) -> str:
        if isinstance(self.tokens, DITokens):
            return f"Bearer {self.tokens.di_token}"
        return str(self._garth.oauth2_token)

    def _needs_refresh(self) -> bool:
        exp = self.tokens.expires_at
        margin = DI_REFRESH_MARGIN_S if isinstance(self.tokens, DITokens) else GARTH_REFRESH_MARGIN_S
        return exp is None or exp - margin <= self._clock()

    def refresh(self) -> Tokens:
        """Get a fresh access token now (garth exchange or DI refresh) and report it."""
        if isinstance(self.tokens, DITokens):
            self.tokens = self._refresh_di(self.tokens)
        else:
            self.tokens = self._refresh_garth(self.tokens)
        if self.on_refresh is not None:
            self.on_refresh(self.tokens)
        return self.tokens

    def _ensure_consumer(self) -> None:
        # garth fetches the consumer pair with a bare requests.get (no timeout, not counted,
        # and it would leave the sandbox); fetch it through our session instead.
        if garth_sso.OAUTH_CONSUMER:
            return
        self._pacer.wait()
        try:
            resp = self._garth.sess.get(ep.OAUTH_CONSUMER_URL, timeout=self._timeout)
            resp.raise_for_status()
            consumer = resp.json()
        except requests.RequestException as exc:
            raise GarminUnavailable(f"cannot fetch garth's OAuth consumer ({type(exc).__name__})") from None
        garth_sso.OAUTH_CONSUMER = {
            "consumer_key": consumer["consumer_key"],
            "consumer_secret": consumer["consumer_secret"],
        }

    def _refresh_garth(self, tokens: GarthTokens) -> GarthTokens:
        self._ensure_consumer()
        self._garth.oauth1_token = OAuth1Token(**tokens.oauth1)
        self._pacer.wait()
        try:
            self._garth.refresh_oauth2()
        except GarthHTTPError as exc:
            self._garth.oauth1_token = OAuth1Token(**tokens.oauth1)  # garth drops it on error
            raise self._token_error(exc.error.response, "garth OAuth1 exchange") from None
        except requests.HTTPError as exc:  # garth's exchange raises plain HTTPError
            raise self._token_error(exc.response, "garth OAuth1 exchange") from None
        except (requests.RequestException, ValueError) as exc:  # messages may quote signed headers
            raise GarminUnavailable(f"garth token exchange failed ({type(exc).__name__})") from None
        oauth2 = self._garth.oauth2_token
        assert isinstance(oauth2, OAuth2Token)
        return GarthTokens(oauth1=tokens.oauth1, oauth2=asdict(oauth2))

    def _refresh_di(self, tokens: DITokens) -> DITokens:
        basic = base64.b64encode(f"{tokens.di_client_id}:".encode()).decode()
        self._pacer.wait()
        try:
            resp = self._garth.sess.post(
                self._url(ep.DIAUTH, ep.DI_TOKEN),
                headers={
                    "Authorization": f"Basic {basic}",
                    "Accept": "application/json",
                    "User-Agent": DI_USER_AGENT,
                },
                data={
                    "grant_type": "refresh_token",
                    "client_id": tokens.di_client_id,
                    "refresh_token": tokens.di_refresh_token,
                },
                timeout=self._timeout,
            )
            resp.raise_for_status()
            body = resp.json()
        except requests.HTTPError as exc:
            raise self._token_error(exc.response, "DI token refresh") from None
        except (requests.RequestException, ValueError) as exc:
            raise GarminUnavailable(f"DI token refresh failed ({type(exc).__name__})") from None
        access = body.get("access_token") if isinstance(body, dict) else None
        if not access:
            raise GarminAuthError("DI token refresh returned no access token: needs re-auth")
        client_id = jwt_claims(access).get("client_id") or tokens.di_client_id
        # The refresh token rotates: the new one replaces the old (keep the old if absent).
        refresh = body.get("refresh_token") or tokens.di_refresh_token
        return DITokens(di_token=access, di_refresh_token=refresh, di_client_id=str(client_id))

    def _token_error(self, resp: Response | None, what: str) -> Exception:
        status = resp.status_code if resp is not None else None
        if status == 429:
            return self._rate_limited(resp, what)
        if status is not None and status >= 500:
            return GarminUnavailable(f"{what}: HTTP {status}")
        return GarminAuthError(f"{what} refused (HTTP {status}): the account needs re-auth")

    def _rate_limited(self, resp: Response | None, what: str) -> GarminRateLimited:
        header = parse_retry_after(resp.headers.get("Retry-After") if resp is not None else None)
        wait = header if header is not None else self.settings.garmin_429_backoff_s
        return GarminRateLimited(
            f"{what}: HTTP 429 (rate limited for {wait:.0f}s)", retry_after=wait, header=header is not None
        )

    def _map_status(self, resp: Response, path: str, *, forbidden_is_auth: bool) -> Exception:
        if resp.status_code == 429:
            return self._rate_limited(resp, path)
        return error_for_status(
            resp.status_code,
            path,
            forbidden_is_auth=forbidden_is_auth,
            reconnect="the account needs re-auth (a token refresh did not help)",
        )

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        stream: bool = False,
        forbidden_is_auth: bool = False,
        accept: str = "application/json",
    ) -> Response:
        """One logical call: refresh if due, pace, send; one refresh+retry on 401."""
        refreshed = False
        while True:
            if self._needs_refresh():
                self.refresh()
                refreshed = True
            self._pacer.wait()
            headers = {"Authorization": self._auth_header(), "Accept": accept}
            if isinstance(self.tokens, DITokens):
                headers["User-Agent"] = DI_USER_AGENT
            try:
                return self._garth.request(
                    method,
                    ep.CONNECTAPI,
                    path,
                    api=False,
                    headers=headers,
                    params=params,
                    json=json_body,
                    stream=stream,
                )
            except GarthHTTPError as exc:
                resp = exc.error.response
                if resp is not None and resp.status_code == 401 and not refreshed:
                    log.info("garmin: 401 on %s, refreshing the token once", path)
                    self.refresh()
                    refreshed = True
                    continue
                if resp is None:
                    raise GarminUnavailable(f"{path}: no response") from None
                raise self._map_status(resp, path, forbidden_is_auth=forbidden_is_auth) from None
            except requests.exceptions.RetryError:
                raise GarminUnavailable(f"{path}: server errors persisted after retries") from None
            except ReplyRefused as exc:
                raise GarminBadResponse(f"{path}: {exc}: refused") from None
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
                raise _BodyBroken(path) from None
            except requests.Timeout:
                if method == "POST":  # sent: Garmin may have done it
                    raise GarminAnswerLost(
                        f"{path}: timed out after sending; it may have been done"
                    ) from None
                raise GarminUnavailable(f"{path}: timed out") from None
            except requests.ConnectionError:
                if method == "POST":
                    raise GarminAnswerLost(f"{path}: connection lost; it may have been done") from None
                raise GarminUnavailable(f"{path}: connection failed") from None
            except (requests.exceptions.InvalidHeader, UnicodeEncodeError) as exc:
                # The only header that varies is Authorization: the stored token cannot be sent.
                # requests quotes the whole header ("Bearer <token>") in its message: name the
                # type only, and drop the chain (`from None`) so no traceback can show it.
                raise GarminAuthError(
                    f"{path}: the stored token cannot be sent ({type(exc).__name__}): add new tokens"
                ) from None
            except requests.RequestException as exc:
                raise GarminUnavailable(f"{path}: request failed ({type(exc).__name__})") from None

    def _with_body_retries(self, fn: Callable[[], Any], path: str) -> Any:
        """Retry a call whose body broke mid-way (urllib3 cannot: the headers had arrived)."""
        attempts = self.settings.garmin_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                return fn()
            except _BodyBroken:
                if attempt == attempts:
                    raise GarminUnavailable(f"{path}: body cut short {attempts} times") from None
                self._sleep(retry_delay(attempt, base_s=self.settings.garmin_backoff_s))
        raise AssertionError("unreachable")

    def _json(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        forbidden_is_auth: bool = False,
    ) -> Any:
        def call() -> Any:
            resp = self._send(
                method, path, params=params, json_body=json_body, forbidden_is_auth=forbidden_is_auth
            )
            try:
                content = resp.content
            except requests.RequestException:  # cut short, reset, undecodable: fetched again
                raise _BodyBroken(path) from None
            if resp.status_code == 204 or not content.strip():
                return None  # "no data", as Garmin says it
            try:
                return json.loads(content)
            except ValueError:
                raise _BodyBroken(path) from None  # cut short or an HTML error page

        if method == "POST":
            # Not idempotent (a second create is a second workout): a broken answer is never
            # fetched again by re-sending; the caller looks at what Garmin did instead.
            try:
                return call()
            except _BodyBroken:
                raise GarminAnswerLost(f"{path}: the answer was cut short; it may have been done") from None
        return self._with_body_retries(call, path)

    def _download(self, path: str, cap: int) -> bytes:
        """A streamed binary body (a FIT ZIP), refused above `cap` bytes; retried if cut short."""

        def call() -> bytes:
            resp = self._send("GET", path, stream=True, accept="*/*")
            with resp:
                declared = resp.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > cap:
                    raise UnsafeArchiveError(f"download is {declared} bytes, over the {cap}-byte cap")
                try:
                    # The cap holds for the decoded bytes, not only those on the wire.
                    return read_capped(
                        resp.raw.stream(64 * 1024, decode_content=False),
                        resp.headers.get("Content-Encoding"),
                        cap,
                    )
                except BodyRefused as exc:
                    raise UnsafeArchiveError(f"download {exc} (the cap)") from None
                except (BodyUndecodable, Urllib3Error, OSError):  # cut short, reset: fetched again
                    raise _BodyBroken(path) from None

        return self._with_body_retries(call, path)


class _BodyBroken(Exception):
    """The response body was cut short or unreadable (internal: retried, then unavailable)."""
