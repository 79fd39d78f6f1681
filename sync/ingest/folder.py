"""Find FIT files under the paths a user gives: files, folders (GARMIN/Activity), export ZIPs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sync.errors import UnsafeArchiveError
from sync.ingest.archive import ArchiveLimits, iter_fit_members
from sync.ingest.reading import read_file_capped


@dataclass(frozen=True)
class FoundFile:
    """A FIT file to import (bytes loaded lazily) or an input refused before decoding."""

    name: str
    source: str  # file | zip
    path: Path | None = None
    data: bytes | None = None
    refused: str | None = None

    def read(self, cap: int) -> bytes:
        """The file's bytes, at most `cap` (raises `UnreadableInput` for anything else)."""
        if self.data is not None:
            return self.data
        assert self.path is not None
        return read_file_capped(self.path, cap)


def _is_fit(path: Path) -> bool:
    return path.suffix.lower() == ".fit"


def _is_zip(path: Path) -> bool:
    return path.suffix.lower() == ".zip"


def list_candidates(paths: list[Path], problems: list[FoundFile] | None = None) -> list[Path]:
    """Every FIT or ZIP file under `paths`, sorted, without duplicates.

    Nothing is dropped without a word: an unreadable folder, a broken link or a `.fit` that is
    not a regular file is added to `problems` (when given) as a refused entry.
    """
    found: dict[Path, None] = {}
    refused = problems if problems is not None else []
    for p in paths:
        if not p.is_dir():
            found[p] = None
            continue

        def unreadable(exc: OSError, top: Path = p) -> None:
            reason = f"cannot read folder: {exc.strerror or exc}"
            refused.append(FoundFile(str(exc.filename or top), "file", refused=reason))

        # os.walk, not rglob: rglob skips a folder it cannot read without a word.
        children = [
            Path(root) / name
            for root, _dirs, files in os.walk(p, onerror=unreadable, followlinks=False)
            for name in files
        ]
        for child in sorted(children):
            if not (_is_fit(child) or _is_zip(child)):
                continue
            if child.is_symlink() and not child.exists():
                refused.append(FoundFile(str(child), "file", refused="broken link: its target is gone"))
            elif not child.is_file():
                refused.append(
                    FoundFile(str(child), "file", refused="not a regular file (a device, FIFO or socket)")
                )
            else:
                found[child] = None
    return list(found)


def iter_found(candidates: list[Path], limits: ArchiveLimits) -> Iterator[FoundFile]:
    """Expand candidates into FIT files, refusing what cannot be read."""
    for path in candidates:
        if not path.exists():
            yield FoundFile(str(path), "file", path=path, refused="no such file")
            continue
        if _is_zip(path):
            try:
                for m in iter_fit_members(path, limits):  # members are read one at a time
                    yield FoundFile(f"{path}!{m.name}", "zip", data=m.data, refused=m.refused)
            except UnsafeArchiveError as exc:
                yield FoundFile(str(path), "zip", path=path, refused=exc.reason)
            continue
        yield FoundFile(str(path), "file", path=path)
