"""The server secret that signs report links and the report page's cookies."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from sync.config import Settings
from sync.errors import ConfigError

KEY_FILE_NAME = "report.key"

HOW_TO_SET_IT = (
    "No secret for signing report links: set LEGDAY_REPORT_SECRET (a long random string, e.g. "
    "python -c 'import secrets; print(secrets.token_urlsafe(32))') or LEGDAY_SECRET_KEY."
)


def _key_file(settings: Settings) -> Path:
    return settings.data_dir / KEY_FILE_NAME


def _read_or_create(path: Path) -> bytes:
    """Read the key file, creating it (0600, O_EXCL so racing processes agree) when absent."""
    if path.exists():
        return path.read_text().strip().encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip().encode()
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key.encode()


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
    auto = settings.auto_secret_key
    if path.exists() or (auto if auto is not None else settings.database_url is None):
        return _read_or_create(path)
    raise ConfigError(HOW_TO_SET_IT)
