"""Files that hold health data or secrets: readable by their owner only.

The database, its WAL, the raw FIT store, the outbox and previews are created 0600 in folders
created 0700, whatever the umask says. Folders that already exist (a data dir the user chose)
are left as they are: legday only tightens what it creates.
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) owner-only; an existing folder is left alone."""
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # another process made it first
        folder.chmod(DIR_MODE)  # mkdir's mode is filtered by the umask
    return path


def write_private(path: Path, data: bytes) -> Path:
    """Write `data` to `path` atomically (a temp file, then a rename), owner-only."""
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, FILE_MODE)  # O_CREAT's mode is filtered by the umask too
        os.replace(tmp, path)  # a reader never sees half a file
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def touch_private(path: Path) -> None:
    """Create an empty owner-only file unless it exists (e.g. SQLite's, before it opens it)."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)
    os.chmod(path, FILE_MODE)
