"""Reading a user's file without trusting it: regular files only, never more than a cap.

`st_size` is 0 for devices (`/dev/zero` never ends) and a FIFO blocks on open until a writer
comes, so the size is enforced while reading and the file type is checked on the open
descriptor (opened non-blocking, so a FIFO cannot hang us before we look at it).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sync.errors import UnreadableInput

__all__ = ["read_file_capped"]


def read_file_capped(path: Path, cap: int) -> bytes:
    """The bytes of the regular file at `path`; raises `UnreadableInput` with one line otherwise.

    Refuses devices, FIFOs, sockets and folders, and files larger than `cap` bytes (checked on
    the bytes actually read, not on the size the file system reports).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise UnreadableInput(f"cannot read file: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "a device, FIFO or socket"
            raise UnreadableInput(f"not a regular file ({kind}): not read")
        chunks: list[bytes] = []
        remaining = cap + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except OSError as exc:
        raise UnreadableInput(f"cannot read file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > cap:
        raise UnreadableInput(f"too large: over the {cap}-byte limit")
    return data
