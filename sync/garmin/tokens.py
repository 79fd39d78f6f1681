"""Garmin credentials: garth's OAuth1+OAuth2 pair, garminconnect's DI Bearer tokens, and a
Personal API key with its cached 24 h bearer token.

All are plain data here (no garth import): parsed from what the athlete hands us, serialised
to JSON, sealed with Fernet before they touch the database. A token never appears in a repr,
a log line or an error message: errors name the problem, never the value.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sync.config import Settings
from sync.errors import ConfigError
from sync.garmin import crypto

TokenKind = Literal["garth", "di", "personal_api"]

OAUTH1_FILE = "oauth1_token.json"
OAUTH2_FILE = "oauth2_token.json"
DI_FILE = "garmin_tokens.json"
_OAUTH1_KEYS = ("oauth_token", "oauth_token_secret")
_OAUTH2_KEYS = (
    "scope",
    "jti",
    "token_type",
    "access_token",
    "refresh_token",
    "expires_in",
    "expires_at",
    "refresh_token_expires_in",
    "refresh_token_expires_at",
)
# The credential fields sent in headers or signatures. OAuth2's `scope` is a space-separated
# list, not a credential, and is left alone.
_OAUTH1_SECRET_KEYS = ("oauth_token", "oauth_token_secret", "mfa_token")
_OAUTH2_SECRET_KEYS = ("access_token", "refresh_token", "token_type", "jti")
_DI_KEYS = ("di_token", "di_refresh_token", "di_client_id")


class TokenFormatError(ConfigError):
    """The supplied token material is not in a format we understand (value never echoed)."""


def _check_clean(where: str, name: str, value: object) -> None:
    """Refuse a token value holding anything but visible ASCII (a stray newline, a space...).

    Such a value would go into an Authorization header, where requests refuses it with an
    error quoting the whole header: refuse it here instead, naming the field, never the value.
    """
    if isinstance(value, str) and not all("!" <= ch <= "~" for ch in value):
        raise TokenFormatError(
            f"{where} field {name} contains whitespace, control or non-ASCII characters "
            "(a stray newline or space from copying?): fix the token file or export it again"
        )


@dataclass(frozen=True, repr=False)
class GarthTokens:
    """garth's pair: a long-lived OAuth1 token (~1 year) and a short OAuth2 access token."""

    oauth1: dict[str, Any]
    oauth2: dict[str, Any] | None = None
    kind: TokenKind = field(default="garth", init=False)

    def __post_init__(self) -> None:
        if not all(isinstance(self.oauth1.get(k), str) and self.oauth1[k] for k in _OAUTH1_KEYS):
            raise TokenFormatError("garth OAuth1 token lacks oauth_token/oauth_token_secret")
        if self.oauth2 is not None and any(k not in self.oauth2 for k in _OAUTH2_KEYS):
            missing = [k for k in _OAUTH2_KEYS if k not in self.oauth2]
            raise TokenFormatError(f"garth OAuth2 token lacks fields: {', '.join(missing)}")
        for key in _OAUTH1_SECRET_KEYS:
            _check_clean("garth oauth1", key, self.oauth1.get(key))
        if self.oauth2 is not None:
            for key in _OAUTH2_SECRET_KEYS:
                _check_clean("garth oauth2", key, self.oauth2.get(key))

    @property
    def expires_at(self) -> float | None:
        """Epoch seconds when the OAuth2 access token expires (None: no OAuth2 token yet)."""
        return float(self.oauth2["expires_at"]) if self.oauth2 else None

    @property
    def domain(self) -> str | None:
        """The Garmin domain the OAuth1 token belongs to (garmin.com / garmin.cn)."""
        return self.oauth1.get("domain")

    def to_json(self) -> bytes:
        """JSON of both tokens (to be encrypted, never logged)."""
        return json.dumps({"oauth1": self.oauth1, "oauth2": self.oauth2}, default=str).encode()

    def __repr__(self) -> str:
        return f"GarthTokens(domain={self.domain!r}, expires_at={self.expires_at!r}, <redacted>)"


@dataclass(frozen=True, repr=False)
class DITokens:
    """garminconnect >= 0.3's DI OAuth2 pair (JWT access token + rotating refresh token)."""

    di_token: str
    di_refresh_token: str
    di_client_id: str
    kind: TokenKind = field(default="di", init=False)

    def __post_init__(self) -> None:
        if not (self.di_token and self.di_refresh_token and self.di_client_id):
            raise TokenFormatError("DI token store needs di_token, di_refresh_token, di_client_id")
        for key in _DI_KEYS:
            _check_clean("DI token store", key, getattr(self, key))
        claims = jwt_claims(self.di_token)
        if not isinstance(claims.get("exp"), int | float):
            raise TokenFormatError("DI token is a JWT without a numeric exp claim")

    @property
    def expires_at(self) -> float:
        """Epoch seconds of the access token's `exp` claim."""
        return float(jwt_claims(self.di_token)["exp"])

    def to_json(self) -> bytes:
        """JSON in garminconnect's own token-store layout."""
        return json.dumps(
            {
                "di_token": self.di_token,
                "di_refresh_token": self.di_refresh_token,
                "di_client_id": self.di_client_id,
            }
        ).encode()

    def __repr__(self) -> str:
        return f"DITokens(client_id={self.di_client_id!r}, expires_at={self.expires_at!r}, <redacted>)"


# The Personal API's documented access-token lifetime; used when a token's `exp` is unreadable.
PERSONAL_API_TOKEN_TTL_S = 24 * 3600.0


@dataclass(frozen=True, repr=False)
class PersonalApiTokens:
    """A Garmin Connect Personal API key (the athlete's own, made in Connect's settings) and
    the bearer token last exchanged for it (cached so each sync does not exchange again).

    `key_expires_at` is the expiry the athlete chose when creating the key (epoch seconds);
    `access_expires_at` is the cached token's `exp` (or its issue time plus 24 h).
    """

    api_key: str
    key_expires_at: float | None = None
    access_token: str | None = None
    access_expires_at: float | None = None
    kind: TokenKind = field(default="personal_api", init=False)

    def __post_init__(self) -> None:
        if not self.api_key:
            raise TokenFormatError("the Personal API key is empty")
        _check_clean("Personal API", "key", self.api_key)
        if self.access_token is not None:
            _check_clean("Personal API", "access token", self.access_token)

    @property
    def expires_at(self) -> float | None:
        """Epoch seconds when the cached bearer token expires (None: no token yet)."""
        return self.access_expires_at if self.access_token else None

    def with_access(self, token: str, expires_at: float) -> PersonalApiTokens:
        """The same key with a newly exchanged bearer token."""
        return PersonalApiTokens(self.api_key, self.key_expires_at, token, expires_at)

    def to_json(self) -> bytes:
        """JSON of the key and the cached token (to be encrypted, never logged)."""
        return json.dumps(
            {
                "api_key": self.api_key,
                "key_expires_at": self.key_expires_at,
                "access_token": self.access_token,
                "access_expires_at": self.access_expires_at,
            }
        ).encode()

    def __repr__(self) -> str:
        return (
            f"PersonalApiTokens(key_expires_at={self.key_expires_at!r}, "
            f"expires_at={self.expires_at!r}, <redacted>)"
        )


def personal_api_from_key(text: str, *, key_expires_at: float | None = None) -> PersonalApiTokens:
    """A key as pasted by the athlete (surrounding whitespace dropped; the value never echoed)."""
    return PersonalApiTokens(api_key=text.strip(), key_expires_at=key_expires_at)


Tokens = GarthTokens | DITokens | PersonalApiTokens
# What the Connect API client (sync.garmin.client) takes; a Personal API key has its own client.
ConnectTokens = GarthTokens | DITokens


def _b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def jwt_claims(token: str) -> dict[str, Any]:
    """The unverified payload of a JWT (we only read `exp` and `client_id` from our own token)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenFormatError("DI token is not a JWT")
    try:
        header = json.loads(_b64url(parts[0]))
        payload = json.loads(_b64url(parts[1]))
    except (ValueError, binascii.Error):
        raise TokenFormatError("DI token is not a decodable JWT") from None
    if not isinstance(header, dict) or header.get("alg") in (None, "none"):
        raise TokenFormatError("DI token has no signing algorithm (alg none)")
    if not isinstance(payload, dict):
        raise TokenFormatError("DI token payload is not an object")
    return payload


def garth_from_string(text: str) -> GarthTokens:
    """Parse garth's `dumps()` string: base64 of the JSON array [oauth1, oauth2]."""
    try:
        oauth1, oauth2 = json.loads(base64.b64decode(text.strip(), validate=True))
    except (ValueError, binascii.Error, TypeError):
        raise TokenFormatError(
            "not a garth token string (expected the output of garth's client.dumps())"
        ) from None
    if not isinstance(oauth1, dict) or not isinstance(oauth2, dict | None):
        raise TokenFormatError("garth token string does not hold two token objects")
    return GarthTokens(oauth1=oauth1, oauth2=oauth2)


def garth_from_dir(path: Path) -> GarthTokens:
    """Read garth's token directory (oauth1_token.json, oauth2_token.json)."""
    path = Path(path).expanduser()
    try:
        oauth1 = json.loads((path / OAUTH1_FILE).read_text())
    except FileNotFoundError:
        raise TokenFormatError(f"{path} has no {OAUTH1_FILE} (is it a garth token directory?)") from None
    except ValueError:
        raise TokenFormatError(f"{path / OAUTH1_FILE} is not JSON") from None
    oauth2: dict[str, Any] | None = None
    if (path / OAUTH2_FILE).exists():
        try:
            text = (path / OAUTH2_FILE).read_text().strip()
            oauth2 = json.loads(text) if text else None
        except ValueError:
            raise TokenFormatError(f"{path / OAUTH2_FILE} is not JSON") from None
    return GarthTokens(oauth1=oauth1, oauth2=oauth2)


def di_from_text(text: str) -> DITokens:
    """Parse garminconnect's token store JSON ({di_token, di_refresh_token, di_client_id})."""
    try:
        data = json.loads(text.strip())  # around the JSON, whitespace is fine; inside a value, not
    except ValueError:
        raise TokenFormatError("DI token store is not JSON") from None
    if not isinstance(data, dict):
        raise TokenFormatError("DI token store is not a JSON object")
    return DITokens(**{key: str(data.get(key) or "") for key in _DI_KEYS})


def di_from_path(path: Path) -> DITokens:
    """Read a DI token store: a directory holding garmin_tokens.json, or the .json file."""
    path = Path(path).expanduser()
    if path.is_dir():
        path = path / DI_FILE
    try:
        return di_from_text(path.read_text())
    except FileNotFoundError:
        raise TokenFormatError(f"{path} does not exist") from None


def from_json(kind: str, blob: bytes) -> Tokens:
    """Rebuild tokens from `Tokens.to_json()` output."""
    data = json.loads(blob)
    if kind == "garth":
        return GarthTokens(oauth1=data["oauth1"], oauth2=data.get("oauth2"))
    if kind == "di":
        return di_from_text(blob.decode())
    if kind == "personal_api":
        return PersonalApiTokens(
            api_key=str(data.get("api_key") or ""),
            key_expires_at=data.get("key_expires_at"),
            access_token=data.get("access_token"),
            access_expires_at=data.get("access_expires_at"),
        )
    raise TokenFormatError(f"unknown token kind {kind!r}")


def seal(settings: Settings, tokens: Tokens) -> bytes:
    """Encrypt tokens for storage."""
    return crypto.encrypt(settings, tokens.to_json())


def unseal(settings: Settings, kind: str, blob: bytes) -> Tokens:
    """Decrypt stored tokens."""
    return from_json(kind, crypto.decrypt(settings, blob))


def seconds_left(tokens: Tokens, now: float | None = None) -> float | None:
    """Seconds until the access token expires (negative: expired; None: unknown)."""
    exp = tokens.expires_at
    return None if exp is None else exp - (time.time() if now is None else now)
