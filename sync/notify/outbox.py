"""The embedded sender: write each email as an .eml file into a local outbox folder."""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path


def write_to_outbox(message: EmailMessage, outbox: Path) -> Path:
    """Save `message` as `<outbox>/<date>-<to>.eml` (overwriting the same day's) and return the path."""
    outbox.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9@._-]+", "_", f"{message['Subject'].split(':')[0]}-{message['To']}")
    path = outbox / f"{stem}.eml"
    path.write_bytes(message.as_bytes())
    return path
