"""HMAC-signed, expiring values: report links and the report page's session cookie.

A signed value is `base64url(json).base64url(hmac)`; the MAC covers a purpose label too, so a
cookie can never be replayed as a link or the other way round.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import Any

MAX_SIGNED_LENGTH = 512


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, purpose: str, body: str) -> str:
    return _b64(hmac.new(key, f"{purpose}\n{body}".encode(), hashlib.sha256).digest())


def sign(key: bytes, purpose: str, claims: dict[str, Any], ttl_s: float, now: float | None = None) -> str:
    """Sign `claims` for `purpose`, valid for `ttl_s` seconds."""
    payload = dict(claims, e=int((now or time.time()) + ttl_s))
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_mac(key, purpose, body)}"


def verify(key: bytes, purpose: str, signed: str | None, now: float | None = None) -> dict[str, Any] | None:
    """The claims of a valid, unexpired value signed for `purpose`; None for anything else."""
    if not signed or len(signed) > MAX_SIGNED_LENGTH or not signed.isascii():
        return None
    body, sep, mac = signed.partition(".")
    if not sep or not hmac.compare_digest(mac, _mac(key, purpose, body)):
        return None
    try:
        claims = json.loads(_unb64(body))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(claims, dict) or not isinstance(claims.get("e"), int):
        return None
    if claims["e"] < (now or time.time()):
        return None
    return claims
