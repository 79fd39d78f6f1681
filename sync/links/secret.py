"""The server secret that signs report links and the report page's cookies."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

from sync.config import Settings, read_key_file, read_or_create_key_file
from sync.errors import ConfigError

KEY_FILE_NAME = "report.key"
WHAT = "report link signing key"

HOW_TO_SET_IT = (
    "No secret for signing report links: set LEGDAY_REPORT_SECRET (a long random string, e.g. "
    "python -c 'import secrets; print(secrets.token_urlsafe(32))') or LEGDAY_SECRET_KEY."
)


def _key_file(settings: Settings) -> Path:
    return settings.data_dir / KEY_FILE_NAME


def report_key(settings: Settings) -> bytes:
    """The HMAC key: LEGDAY_REPORT_SECRET, else derived from LEGDAY_SECRET_KEY, else a key file.

    The key file is only created for the embedded default (or with LEGDAY_AUTO_SECRET_KEY), so
    several servers sharing one database never invent different keys.
    """
    if settings.report_secret is not None and settings.report_secret.get_secret_value():
        return settings.report_secret.get_secret_value().encode()
    if settings.secret_key is not None and settings.secret_key.get_secret_value():
        base = settings.secret_key.get_secret_value().encode()
        return hmac.new(base, b"legday report links v1", hashlib.sha256).digest()
    path = _key_file(settings)
    if path.exists():
        return read_key_file(path, WHAT).encode()
    auto = settings.auto_secret_key
    if auto if auto is not None else settings.database_url is None:
        return read_or_create_key_file(path, lambda: secrets.token_urlsafe(32), WHAT)[0].encode()
    raise ConfigError(HOW_TO_SET_IT)
