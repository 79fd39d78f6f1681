"""Sandbox auth: token issuing, garth's OAuth1->OAuth2 exchange, the DI token endpoint (with
refresh-token rotation), the SSO pages (Cloudflare 429 unless open) and bearer checks.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from sync.garmin.tokens import DITokens, GarthTokens
from sync.sandbox import bodies
from sync.sandbox.model import OPEN, Reply, RouteSpec, SandboxState, json_reply

GARTH_LOGIN_AGE_S = 90 * 86400  # the sandbox's garth tokens come from a login 90 days ago


def _iso(epoch_s: float) -> str:
    """garth's `mfa_expiration_timestamp` format: naive ISO seconds, UTC."""
    return datetime.fromtimestamp(epoch_s, UTC).replace(tzinfo=None).isoformat(timespec="seconds")


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


class AuthMixin(SandboxState):
    """Tokens the sandbox hands out and the endpoints that hand them out."""

    sso: str  # "blocked" (Cloudflare 429) | "open" (serves the recorded login flow)
    garth_ttl_s: float
    di_ttl_s: float
    _access: dict[str, tuple[str, float]]  # bearer -> (account, expires at)
    _di_refresh: dict[str, tuple[str, str]]  # refresh -> (account, client id)
    _di_used: set[str]

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
                # A year after the (simulated) login, which lies GARTH_LOGIN_AGE_S in the past:
                # relative to the sandbox clock, so tests never reach the token's end by the calendar.
                "mfa_expiration_timestamp": _iso(self.clock.now() + 365 * 86400 - GARTH_LOGIN_AGE_S),
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

    # -- checking what a request carries -----------------------------------------------------

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
        """Whether a bearer token was issued here and has not expired on the sandbox clock."""
        if not token:
            return False
        with self._lock:
            entry = self._access.get(token)
        return entry is not None and entry[1] > self.clock.now()

    # -- routes: fn(query, body, headers, account, *groups) ----------------------------------

    def _auth_routes(self) -> list[RouteSpec]:
        """The open (no bearer) token and SSO endpoints."""
        return [
            ("GET", r"/oauth_consumer\.json", OPEN, self._r_consumer),
            ("POST", r"/oauth-service/oauth/exchange/user/2\.0", OPEN, self._r_exchange),
            ("POST", r"/di-oauth2-service/oauth/token", OPEN, self._r_di_token),
            ("GET", r"/oauth-service/oauth/preauthorized", OPEN, self._r_preauthorized),
            ("GET", r"/mobile/sso/en/sign-in", OPEN, self._r_sso_page),
            ("GET", r"/portal/sso/embed", OPEN, self._r_sso_page),
            ("POST", r"/mobile/api/login", OPEN, self._r_sso_login),
            ("POST", r"/mobile/api/mfa/verifyCode", OPEN, self._r_sso_mfa),
        ]

    def _r_consumer(self, q: dict[str, str], body: bytes, headers: Any, account: str | None) -> Reply:
        return json_reply(CONSUMER)

    def _r_exchange(self, q: dict[str, str], body: bytes, headers: Any, account: str | None) -> Reply:
        auth = headers.get("Authorization", "")
        if not auth.startswith("OAuth ") or account is None:
            return Reply(401, b"", None)
        consumer = re.search(r'oauth_consumer_key="([^"]+)"', auth)
        if not consumer or unquote(consumer.group(1)) != CONSUMER["consumer_key"]:
            return Reply(401, b"", None)
        return json_reply(self._exchange_body(account, self.garth_ttl_s))

    def _r_di_token(self, q: dict[str, str], body: bytes, headers: Any, account: str | None) -> Reply:
        form = dict(parse_qsl(body.decode()))
        basic = headers.get("Authorization", "")
        client_id = form.get("client_id", "")
        expected = "Basic " + base64.b64encode(f"{client_id}:".encode()).decode()
        if basic != expected:
            return json_reply({"error": "invalid_client", "error_description": "Bad client credentials"}, 401)
        if form.get("grant_type") != "refresh_token":
            return json_reply({"error": "unsupported_grant_type"}, 400)
        refresh = form.get("refresh_token", "")
        owner = self._di_refresh.pop(refresh, None)
        if owner is None or owner[1] != client_id:
            desc = "Refresh token already used" if refresh in self._di_used else "Invalid refresh token"
            return json_reply({"error": "invalid_grant", "error_description": desc}, 400)
        # Rotation: the old refresh token dies, a new one takes its place.
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
        return json_reply(reply)

    def _sso_blocked(self) -> Reply | None:
        return Reply(429, CLOUDFLARE_429, "text/html") if self.sso != "open" else None

    def _r_sso_page(self, q: dict[str, str], body: bytes, headers: Any, account: str | None) -> Reply:
        return self._sso_blocked() or Reply(200, b"<html><body>sign in</body></html>", "text/html")

    def _r_sso_login(self, q: dict[str, str], body: bytes, headers: Any, account: str | None) -> Reply:
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
            return json_reply(bodies.template("sso_login_invalid_credentials.json"), 401)
        if creds.get("mfa"):
            return json_reply(bodies.template("sso_login_mfa_required.json"))
        return json_reply(bodies.template("sso_login_successful.json"))

    def _r_sso_mfa(self, q: dict[str, str], body: bytes, headers: Any, account: str | None) -> Reply:
        return self._sso_blocked() or json_reply(bodies.template("sso_mfa_verify_successful.json"))

    def _r_preauthorized(self, q: dict[str, str], body: bytes, headers: Any, account: str | None) -> Reply:
        blocked = self._sso_blocked()
        if blocked:
            return blocked
        acct = self.account
        token = "sbx_oauth1_" + secrets.token_urlsafe(12)
        acct.oauth1[token] = "sbx_secret_" + secrets.token_urlsafe(12)
        text = bodies.oauth1_preauthorized(token, acct.oauth1[token], "sbx_mfa")
        return Reply(200, text.encode(), "text/plain")
