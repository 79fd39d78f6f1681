"""Encrypt Garmin tokens at rest with Fernet. The key lives in settings, never in the database.

The cipher itself is `sync.config`'s at-rest cipher, shared with the notification channels'
URLs (one key, one copy of the code); this module keeps the Garmin adapter's names.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from sync.config import (
    AT_REST_KEY_FILE,
    AT_REST_KEY_WHAT,
    HOW_TO_MAKE_A_KEY,
    Settings,
    at_rest_key,
    at_rest_key_file,
    decrypt_at_rest,
    encrypt_at_rest,
)

KEY_FILE_NAME = AT_REST_KEY_FILE
WHAT = AT_REST_KEY_WHAT
__all__ = ["HOW_TO_MAKE_A_KEY", "KEY_FILE_NAME", "WHAT", "decrypt", "encrypt", "key_file", "resolve_key"]


def key_file(settings: Settings) -> Path:
    """Where the auto-created key of the embedded default lives."""
    return at_rest_key_file(settings)


def resolve_key(settings: Settings, *, create: bool | None = None) -> SecretStr:
    """The Fernet key (`sync.config.at_rest_key`)."""
    return at_rest_key(settings, create=create)


def encrypt(settings: Settings, plaintext: bytes) -> bytes:
    """Encrypt bytes with the configured key."""
    return encrypt_at_rest(settings, plaintext)


def decrypt(settings: Settings, ciphertext: bytes) -> bytes:
    """Decrypt bytes; a wrong key is a ConfigError that names no secret."""
    return decrypt_at_rest(settings, ciphertext, "Garmin tokens")
