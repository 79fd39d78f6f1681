"""The report page's session cookie and the CSRF token of its forms.

The cookie is signed (not a bearer of any data access: the signed link still has to be valid),
HttpOnly and SameSite=Strict; the form carries a token derived from the cookie's nonce, so a
form posted from another site fails twice over.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request, Response

from sync.links.signing import sign, verify

COOKIE_NAME = "legday_report"
COOKIE_PURPOSE = "session"


def read_session(request: Request, key: bytes, athlete_id: int) -> str | None:
    """The nonce of a valid session cookie of this athlete, else None."""
    claims = verify(key, COOKIE_PURPOSE, request.cookies.get(COOKIE_NAME))
    if claims is None or claims.get("a") != athlete_id or not isinstance(claims.get("n"), str):
        return None
    return claims["n"]


def new_nonce() -> str:
    """A fresh session nonce."""
    return secrets.token_urlsafe(16)


def set_session(
    response: Response, request: Request, key: bytes, athlete_id: int, nonce: str, hours: int
) -> None:
    """Set the session cookie carrying `nonce` on `response`."""
    value = sign(key, COOKIE_PURPOSE, {"a": athlete_id, "n": nonce}, hours * 3600)
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=hours * 3600,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def csrf_token(key: bytes, nonce: str) -> str:
    """The form token bound to a session nonce."""
    return hmac.new(key, f"csrf\n{nonce}".encode(), hashlib.sha256).hexdigest()[:40]


def csrf_ok(key: bytes, nonce: str | None, token: str | None) -> bool:
    """Whether a posted form token belongs to the session (constant-time)."""
    if not (nonce and token):
        return False
    return hmac.compare_digest(csrf_token(key, nonce), token)
