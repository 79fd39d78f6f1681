"""Sending to the Personal API: key -> bearer token, pacing per key, Retry-After, errors.

- The key is exchanged for a bearer token (a JWT whose `exp` gives its expiry, 24 h by the
  documentation; 24 h is assumed when `exp` cannot be read). There is no refresh token: the
  key is exchanged again within `RENEW_MARGIN_S` of `exp`, and once after a 401 on a data call.
  Each new token goes to `on_refresh`, so the caller keeps it (encrypted) for the next sync.
- A refused exchange (401/403) is `PersonalApiKeyRejected`: the athlete must make a new key.
- At most two requests of one key are in flight (`gate.py`), each spaced by the shared Pacer
  (minimum interval, fleet-wide Redis budget when configured).
- 429 waits out `Retry-After` (seconds or an HTTP date) for every request of the key when it
  is short (`garmin_personal_inline_wait_s`), at most `garmin_retries + 1` times per call;
  longer, or again and again, it is `GarminRateLimited` and the account waits.
- 408 / 5xx / resets / timeouts / bodies cut short are retried with bounded backoff, then
  `GarminUnavailable`; 204 / empty / `null` bodies are "no data" (None).
- Every body is read with a cap on its decoded size (`sync/garmin/decoding.py`, as for the
  Connect client): a gzip bomb is refused, never inflated.
- The key and the token never appear in an error, a log line or a repr.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from requests import Response
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import HTTPError as Urllib3Error

from sync.config import Settings
from sync.errors import UnsafeArchiveError
from sync.garmin.backoff import Pacer, parse_retry_after, retry_delay
from sync.garmin.budget import global_budget_from
from sync.garmin.decoding import ACCEPT_ENCODING, BodyRefused, BodyUndecodable, read_capped
from sync.garmin.errors import (
    GarminAuthError,
    GarminBadResponse,
    GarminRateLimited,
    GarminUnavailable,
    PersonalApiKeyRejected,
    error_for_status,
)
from sync.garmin.personal import endpoints as ep
from sync.garmin.personal.gate import KeyGate, gate_for
from sync.garmin.tokens import PERSONAL_API_TOKEN_TTL_S, PersonalApiTokens, TokenFormatError, jwt_claims

log = logging.getLogger(__name__)

RENEW_MARGIN_S = 3600.0  # renew within an hour of `exp`, as Garmin's own client does
_TRANSIENT = (408, 500, 502, 503, 504)
_USER_AGENT = "legday (Garmin Connect Personal API)"


class RequestCounter:
    """Counts HTTP requests that reached the wire (retries and exchanges included)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.total = 0

    def add(self, n: int = 1) -> None:
        """Record `n` more requests."""
        with self._lock:
            self.total += n


@dataclass(frozen=True)
class _Answer:
    """What came back: status, headers and the whole body (read inside the key's slot)."""

    status: int
    headers: CaseInsensitiveDict[str]
    body: bytes


class _Retry(Exception):
    """Internal: this attempt failed in a way worth one more try (after `wait` seconds)."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


def token_expiry(token: str, issued_at: float) -> float:
    """The bearer token's `exp` (epoch seconds); issue time + 24 h when it cannot be read."""
    try:
        exp = jwt_claims(token).get("exp")
    except TokenFormatError:
        exp = None
    if isinstance(exp, int | float) and not isinstance(exp, bool):
        return float(exp)
    return issued_at + PERSONAL_API_TOKEN_TTL_S


class PersonalApiTransport:
    """The HTTP side of one Personal API account (see the module docstring)."""

    def __init__(
        self,
        tokens: PersonalApiTokens,
        settings: Settings,
        *,
        on_refresh: Callable[[PersonalApiTokens], None] | None = None,
        counter: RequestCounter | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        gate: KeyGate | None = None,
    ) -> None:
        self.settings = settings
        self.tokens = tokens
        self.on_refresh = on_refresh
        self.counter = counter or RequestCounter()
        self.display_name: str | None = None
        self._clock = clock
        self._sleep = sleep
        self._gate = gate or gate_for(tokens.api_key)
        self._pacer = Pacer(settings.garmin_min_interval_s, sleep=sleep, budget=global_budget_from(settings))
        self._timeout = settings.garmin_timeout_s
        self._base_url = settings.garmin_base_url.rstrip("/") if settings.garmin_base_url else None
        self._session = requests.Session()
        self._session.headers["User-Agent"] = _USER_AGENT
        self._token_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PersonalApiClient(expires_at={self.tokens.expires_at!r}, requests={self.requests})"

    @property
    def requests(self) -> int:
        """HTTP requests made so far by this client (retries and exchanges included)."""
        return self.counter.total

    # -- the wire ----------------------------------------------------------------------------

    def _url(self, path: str) -> tuple[str, dict[str, str]]:
        """The URL to send to and the Host header (the sandbox routes on it, like Garmin)."""
        if self._base_url:
            return f"{self._base_url}{path}", {"Host": ep.HOST}
        return f"https://{ep.HOST}{path}", {}

    def _wire(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        params: dict[str, Any] | None = None,
        *,
        cap: int | None = None,
    ) -> _Answer:
        """One request through the key's gate and the pacer, its body read inside the slot.

        The body is read before the slot is given back (a download still streaming is still in
        flight); with `cap`, it is streamed and refused past `cap` bytes.
        """
        url, host = self._url(path)
        with self._gate.slot(self._clock, self._sleep):
            self._pacer.wait()
            self.counter.add()
            try:
                resp = self._session.request(
                    method,
                    url,
                    # Only encodings our bounded decoder reads (sync/garmin/decoding.py).
                    headers={**host, **headers, "Accept-Encoding": ACCEPT_ENCODING},
                    params=params,
                    stream=True,  # read below, capped after decoding: never inflated whole
                    timeout=self._timeout,
                    allow_redirects=False,
                )
                with resp:
                    body = self._body(resp, path, cap)
                    return _Answer(resp.status_code, CaseInsensitiveDict(resp.headers), body)
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
                raise _Retry(f"{path}: body cut short") from None
            except requests.Timeout:
                raise _Retry(f"{path}: timed out") from None
            except requests.ConnectionError:
                raise _Retry(f"{path}: connection failed") from None
            except (requests.exceptions.InvalidHeader, UnicodeEncodeError) as exc:
                # requests quotes the whole header in its message: name the type only.
                raise GarminAuthError(
                    f"{path}: the stored Personal API credential cannot be sent ({type(exc).__name__}): "
                    "connect a new key"
                ) from None
            except requests.RequestException as exc:
                raise GarminUnavailable(f"{path}: request failed ({type(exc).__name__})") from None

    def _body(self, resp: Response, path: str, cap: int | None) -> bytes:
        """The whole body, decoded with a cap: `cap` for a download (refused above it as an
        unsafe archive), `garmin_max_body_bytes` for anything else."""
        download = cap is not None and resp.status_code < 300
        limit = cap if download and cap is not None else self.settings.garmin_max_body_bytes
        declared = resp.headers.get("Content-Length")
        if download and declared and declared.isdigit() and int(declared) > limit:
            raise UnsafeArchiveError(f"download is {declared} bytes, over the {limit}-byte cap")
        try:
            return read_capped(
                resp.raw.stream(64 * 1024, decode_content=False), resp.headers.get("Content-Encoding"), limit
            )
        except BodyRefused as exc:
            if download:
                raise UnsafeArchiveError(f"download {exc} (the cap)") from None
            raise GarminBadResponse(f"{path}: the reply {exc}: refused") from None
        except (BodyUndecodable, Urllib3Error, OSError):  # cut short, reset: fetched again
            raise _Retry(f"{path}: body cut short") from None

    def _retrying(self, what: str, attempt_fn: Callable[[], Any]) -> Any:
        """Run `attempt_fn` until it succeeds; transient failures and short 429s retried."""
        attempts = self.settings.garmin_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                return attempt_fn()
            except _Retry as exc:
                if attempt == attempts:
                    if exc.wait is not None:  # a 429 that kept coming back
                        raise GarminRateLimited(
                            f"{exc.reason} (still rate limited after {attempts} tries)",
                            retry_after=exc.wait,
                            header=True,
                        ) from None
                    raise GarminUnavailable(f"{exc.reason}, after {attempts} tries") from None
                if exc.wait is not None:
                    self._gate.hold(self._clock() + exc.wait)  # every request of the key waits
                else:
                    self._sleep(retry_delay(attempt, base_s=self.settings.garmin_backoff_s))
        raise AssertionError("unreachable")

    def _rate_limited(self, answer: _Answer, what: str) -> Exception:
        """A 429: `_Retry` when the wait is short enough to sit out, else GarminRateLimited."""
        header = parse_retry_after(answer.headers.get("Retry-After"))
        wait = header if header is not None else self.settings.garmin_429_backoff_s
        if header is not None and wait <= self.settings.garmin_personal_inline_wait_s:
            return _Retry(f"{what}: HTTP 429", wait=wait)
        # Longer: the account's `rate_limited_until` keeps every later sync away until then (one
        # sync per account at a time), so no thread is made to sleep that long here.
        return GarminRateLimited(
            f"{what}: HTTP 429 (rate limited for {wait:.0f}s)", retry_after=wait, header=header is not None
        )

    # -- the token ---------------------------------------------------------------------------

    def _needs_exchange(self) -> bool:
        exp = self.tokens.expires_at
        return exp is None or exp - RENEW_MARGIN_S <= self._clock()

    def exchange(self) -> PersonalApiTokens:
        """Exchange the key for a new bearer token now, and report it to `on_refresh`."""

        def attempt() -> str:
            answer = self._wire(
                "POST",
                ep.TOKEN,
                {"Authorization": f"ApiKey {self.tokens.api_key}", "Accept": "text/plain, */*"},
            )
            status = answer.status
            if status in (401, 403):
                raise PersonalApiKeyRejected(
                    f"Garmin refused the Personal API key (HTTP {status}): it is wrong, expired or "
                    "revoked; create a new key in Garmin Connect and connect again"
                )
            if status == 429:
                raise self._rate_limited(answer, "Personal API token exchange")
            if status in _TRANSIENT:
                raise _Retry(f"Personal API token exchange: HTTP {status}")
            if status != 200:
                raise GarminBadResponse(f"Personal API token exchange: HTTP {status}", status=status)
            token = answer.body.decode("ascii", "replace").strip()
            if not token or not all("!" <= ch <= "~" for ch in token):
                raise GarminBadResponse("Personal API token exchange: the answer is not a token")
            return token

        with self._token_lock:
            issued = self._clock()
            token = self._retrying("Personal API token exchange", attempt)
            self.tokens = self.tokens.with_access(token, token_expiry(token, issued))
            left = (self.tokens.expires_at or issued) - issued
            log.info("garmin: Personal API token exchanged (valid for %.0f s)", left)
        if self.on_refresh is not None:
            self.on_refresh(self.tokens)
        return self.tokens

    refresh = exchange  # the name the other clients use

    # -- data calls --------------------------------------------------------------------------

    def _get(
        self,
        path: str,
        params: dict[str, Any] | None,
        accept: str,
        *,
        cap: int | None = None,
        forbidden_is_auth: bool = False,
    ) -> _Answer:
        """One GET attempt with a valid token: exchanged when due, and once again after a 401.

        Raises `_Retry` for what is worth another try; the caller's `_retrying` decides.
        """
        exchanged = False
        while True:
            if self._needs_exchange():
                self.exchange()
                exchanged = True
            bearer = {"Authorization": f"Bearer {self.tokens.access_token}", "Accept": accept}
            answer = self._wire("GET", path, bearer, params, cap=cap)
            status = answer.status
            if status < 400:
                return answer
            if status == 401 and not exchanged:
                log.info("garmin: 401 on %s, exchanging the Personal API key once", path)
                self.exchange()
                exchanged = True
                continue
            if status == 429:
                raise self._rate_limited(answer, path)
            if status in _TRANSIENT:
                raise _Retry(f"{path}: HTTP {status}")
            raise self._map_status(status, path, forbidden_is_auth=forbidden_is_auth)

    @staticmethod
    def _map_status(status: int, path: str, *, forbidden_is_auth: bool) -> Exception:
        return error_for_status(
            status,
            path,
            forbidden_is_auth=forbidden_is_auth,
            reconnect="connect a new Personal API key (a new token did not help)",
        )

    def _json(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        forbidden_is_auth: bool = False,
    ) -> Any:
        """One JSON GET; None for "no data" (204, empty, `null`). The API has no writes."""
        if method != "GET" or json_body is not None:
            raise AssertionError("the Personal API is read-only")

        def call() -> Any:
            answer = self._get(path, params, "application/json", forbidden_is_auth=forbidden_is_auth)
            if answer.status == 204 or not answer.body.strip():
                return None
            try:
                return json.loads(answer.body)
            except ValueError:
                raise _Retry(f"{path}: body cut short or not JSON") from None

        return self._retrying(path, call)

    def _download(self, path: str, cap: int) -> bytes:
        """A ZIP (Accept: application/x-zip-compressed), refused above `cap` bytes."""
        return self._retrying(path, lambda: self._get(path, None, ep.ZIP, cap=cap).body)
