"""Encrypt Garmin tokens at rest with Fernet. The key lives in settings, never in the database."""

from __future__ import annotations

import logging
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

from sync.config import Settings, read_key_file, read_or_create_key_file
from sync.errors import ConfigError

log = logging.getLogger(__name__)

KEY_FILE_NAME = "secret.key"
WHAT = "Garmin token encryption key"

HOW_TO_MAKE_A_KEY = (
    "No encryption key configured for Garmin tokens. Generate one with\n"
    "  python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'\n"
    "and set it as LEGDAY_SECRET_KEY (or run with LEGDAY_AUTO_SECRET_KEY=true to let legday "
    "create data_dir/secret.key, mode 0600, for a single-machine setup)."
)


def key_file(settings: Settings) -> Path:
    """Where the auto-created key of the embedded default lives."""
    return settings.data_dir / KEY_FILE_NAME


def resolve_key(settings: Settings, *, create: bool | None = None) -> SecretStr:
    """The Fernet key: settings.secret_key, else the key file in data_dir.

    The key file is created (0600) only when `create` (default: settings.auto_secret_key) is
    true, so a service with a shared database never silently invents a key per machine.
    """
    if settings.secret_key is not None and settings.secret_key.get_secret_value():
        return settings.secret_key
    path = key_file(settings)
    if path.exists():
        return SecretStr(read_key_file(path, WHAT))
    if create is None:
        auto = settings.auto_secret_key
        create = auto if auto is not None else settings.database_url is None
    if create:
        key, created = read_or_create_key_file(path, lambda: Fernet.generate_key().decode(), WHAT)
        if created:
            log.warning("created a new token encryption key at %s (mode 0600); back it up", path)
        return SecretStr(key)
    raise ConfigError(HOW_TO_MAKE_A_KEY)


def _fernet(settings: Settings) -> Fernet:
    try:
        return Fernet(resolve_key(settings).get_secret_value().encode())
    except ValueError as exc:  # wrong length / not urlsafe base64
        raise ConfigError(f"LEGDAY_SECRET_KEY is not a valid Fernet key ({exc})") from None


def encrypt(settings: Settings, plaintext: bytes) -> bytes:
    """Encrypt bytes with the configured key."""
    return _fernet(settings).encrypt(plaintext)


def decrypt(settings: Settings, ciphertext: bytes) -> bytes:
    """Decrypt bytes; a wrong key is a ConfigError that names no secret."""
    try:
        return _fernet(settings).decrypt(ciphertext)
    except InvalidToken:
        raise ConfigError(
            "stored Garmin tokens cannot be decrypted with the configured key "
            "(was LEGDAY_SECRET_KEY changed?)"
        ) from None
