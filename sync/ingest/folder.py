"""Find FIT files under the paths a user gives: files, folders (GARMIN/Activity), export ZIPs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sync.errors import UnsafeArchiveError
from sync.ingest.archive import ArchiveLimits, iter_fit_members


@dataclass(frozen=True)
class FoundFile:
    """A FIT file to import (bytes loaded lazily) or an input refused before decoding."""

    name: str
    source: str  # file | zip
    path: Path | None = None
    data: bytes | None = None
    refused: str | None = None

    def read(self) -> bytes:
        """The file's bytes."""
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()


def _is_fit(path: Path) -> bool:
    return path.suffix.lower() == ".fit"


def _is_zip(path: Path) -> bool:
    return path.suffix.lower() == ".zip"


def list_candidates(paths: list[Path]) -> list[Path]:
    """Every FIT or ZIP file under `paths`, sorted, without duplicates."""
    found: dict[Path, None] = {}
    for p in paths:
        if p.is_dir():
            for child in sorted(p.rglob("*")):
                if child.is_file() and (_is_fit(child) or _is_zip(child)):
                    found[child] = None
        else:
            found[p] = None
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
