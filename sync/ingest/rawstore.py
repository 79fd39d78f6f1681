"""Content-addressed store of raw FIT bytes: `<root>/<sha[:2]>/<sha>.fit`, written atomically."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from sync.private_files import private_dir


def sha256_hex(data: bytes) -> str:
    """The hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


class RawStore:
    """Keeps every file legday has seen, so a new decoder or model can re-run offline."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def relative_path(self, sha: str) -> str:
        """Where the bytes with this hash live, relative to the store root."""
        return f"{sha[:2]}/{sha}.fit"

    def put(self, data: bytes, sha: str | None = None) -> str:
        """Store `data` (idempotent) and return its relative path."""
        sha = sha or sha256_hex(data)
        rel = self.relative_path(sha)
        target = self.root / rel
        if target.exists():
            return rel
        private_dir(target.parent)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")  # created 0600
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)  # atomic: a crash never leaves half a file under the hash
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return rel

    def get(self, rel: str) -> bytes:
        """Read stored bytes back."""
        return (self.root / rel).read_bytes()
