"""The embedded sender: write each email as an .eml file into a local outbox folder."""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path

from sync.errors import TransientError
from sync.private_files import write_private


def write_to_outbox(message: EmailMessage, outbox: Path) -> Path:
    """Save `message` as an .eml file in `outbox` and return the path.

    The name comes from the Message-ID (stable per athlete-day), so sending the same email again
    overwrites its file instead of adding a second one.
    """
    key = (message["Message-ID"] or "").strip("<>") or f"{message['Subject']}-{message['To']}"
    stem = re.sub(r"[^A-Za-z0-9@._-]+", "_", key)[:180]
    # Health data: owner-only, written atomically so a reader never sees half a file.
    return write_private(outbox / f"{stem}.eml", message.as_bytes())


class OutboxSender:
    """Sender writing to a folder: the embedded default when no SMTP host is set."""

    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox

    def send(self, message: EmailMessage) -> None:
        """Write `message` to the outbox; an OSError (disk full, permissions) is transient.

        The write is atomic (a temp file, then a rename), so after an error the file is not
        there and writing it again later is safe; a second write overwrites the first anyway.
        """
        try:
            write_to_outbox(message, self.outbox)
        except OSError as exc:
            raise TransientError(f"outbox: {type(exc).__name__}: {exc.strerror or exc}") from None

    def __repr__(self) -> str:
        return f"OutboxSender({str(self.outbox)!r})"
