"""Safe reading of ZIP archives: Garmin data exports and Garmin's FIT download ZIPs.

Nothing is extracted to disk; members are read into memory one at a time after their names,
sizes and compression ratios have been checked, so `../x` names and zip bombs are refused.
"""

from __future__ import annotations

import io
import lzma
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sync.errors import UnsafeArchiveError

FIT_SUFFIX = ".fit"

# What zipfile raises for damaged bytes besides BadZipFile. Found by fuzzing: a corrupt deflate
# stream raises zlib.error, an unknown compression method or a too-new "version needed"
# NotImplementedError, an encryption flag RuntimeError, a corrupt LZMA stream LZMAError.
# None of these is a bug on our side: each is a member (or archive) we cannot read.
_DAMAGED = (
    zipfile.BadZipFile,
    EOFError,
    OSError,
    ValueError,
    zlib.error,
    lzma.LZMAError,
    NotImplementedError,
    RuntimeError,
)


@dataclass(frozen=True)
class ArchiveLimits:
    """Caps applied before and while reading a ZIP."""

    max_member_bytes: int = 64 * 1024 * 1024
    max_total_bytes: int = 2 * 1024 * 1024 * 1024
    max_ratio: float = 200.0


@dataclass(frozen=True)
class Member:
    """A ZIP member: either its bytes, or the reason it was refused."""

    name: str
    data: bytes | None = None
    refused: str | None = None


def unsafe_name_reason(name: str) -> str | None:
    """Why a member name is unsafe (absolute, `..`, drive letter), or None when it is fine."""
    normalized = name.replace("\\", "/")
    path = PurePosixPath(normalized)
    if normalized.startswith("/") or (len(normalized) > 1 and normalized[1] == ":"):
        return f"unsafe path in archive: {name!r} is absolute"
    if ".." in path.parts:
        return f"unsafe path in archive: {name!r} climbs out with '..'"
    return None


def _check_sizes(info: zipfile.ZipInfo, limits: ArchiveLimits) -> str | None:
    if info.file_size > limits.max_member_bytes:
        return f"archive member {info.filename!r} is too large ({info.file_size} bytes)"
    if info.compress_size > 0 and info.file_size / info.compress_size > limits.max_ratio:
        ratio = info.file_size / info.compress_size
        return (
            f"suspicious compression ratio {ratio:.0f}:1 for {info.filename!r} "
            f"(limit {limits.max_ratio:.0f}:1, possible zip bomb)"
        )
    return None


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    # The header's declared size may lie: read at most cap+1 bytes and check.
    with zf.open(info) as fh:
        data = fh.read(cap + 1)
    if len(data) > cap:
        raise UnsafeArchiveError(f"archive member {info.filename!r} expands past its declared size")
    return data


def _one_line(exc: BaseException) -> str:
    """An exception as one short line (zipfile's messages can embed a ZipInfo repr)."""
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def open_zip(data: bytes | Path) -> zipfile.ZipFile:
    """Open a ZIP (bytes, or a file read member by member), turning damage into a clear error."""
    try:
        return zipfile.ZipFile(data if isinstance(data, Path) else io.BytesIO(data))
    except _DAMAGED as exc:
        if isinstance(exc, OSError) and isinstance(data, Path):
            raise  # the file itself could not be read (permissions, I/O): the caller says so
        raise UnsafeArchiveError(
            f"not a readable ZIP archive (truncated or corrupt): {_one_line(exc)}", retryable=True
        ) from exc


def overlap_reason(zf: zipfile.ZipFile) -> str | None:
    """Why the archive's entries overlap (one byte range read as several files), or None.

    A ZIP whose members share their bytes is a classic bomb; Python only refuses it from
    3.11.8/3.12.2 on (CVE-2024-0450), so it is checked here on every interpreter. A member's
    data begins at least 30 bytes (the local header) plus its name after its header offset.
    """
    infos = sorted((i for i in zf.infolist()), key=lambda i: i.header_offset)
    for before, after in zip(infos, infos[1:], strict=False):
        end = before.header_offset + 30 + len(before.orig_filename.encode()) + before.compress_size
        if after.header_offset < end:
            return f"overlapping entries in archive ({before.filename!r} and {after.filename!r}): refused"
    return None


@dataclass
class _Budget:
    """Bytes read so far from one archive, its nested archives included."""

    total: int = 0


def iter_fit_members(
    data: bytes | Path, limits: ArchiveLimits, *, depth: int = 0, budget: _Budget | None = None
) -> Iterator[Member]:
    """Yield every FIT member of a ZIP (and of ZIPs nested in it, as Garmin exports have).

    One level of nesting is read (a Garmin export holds ZIPs of FIT files); a ZIP nested deeper
    is refused with a reason, never skipped silently. `max_total_bytes` counts every byte read
    from the outer archive and its nested ones together.
    """
    budget = budget or _Budget()
    with open_zip(data) as zf:
        overlap = overlap_reason(zf)
        if overlap:
            raise UnsafeArchiveError(overlap)
        for info in zf.infolist():
            if info.is_dir():
                continue
            name = info.filename
            lower = name.lower()
            nested = lower.endswith(".zip")
            if not (lower.endswith(FIT_SUFFIX) or nested):
                continue
            if nested and depth > 0:
                yield Member(name, refused="a ZIP inside a ZIP inside the export: nested too deep, not read")
                continue
            reason = unsafe_name_reason(name) or _check_sizes(info, limits)
            if reason is None and budget.total + info.file_size > limits.max_total_bytes:
                reason = f"archive expands past {limits.max_total_bytes} bytes in total"
            if reason:
                yield Member(name, refused=reason)
                continue
            try:
                member_bytes = _read_capped(zf, info, info.file_size)
            except UnsafeArchiveError as exc:
                yield Member(name, refused=exc.reason)
                continue
            except _DAMAGED as exc:  # CRC error, truncation, corrupt stream, unknown method
                yield Member(name, refused=f"archive member {name!r} is damaged: {_one_line(exc)}")
                continue
            if nested:
                try:
                    for inner in iter_fit_members(member_bytes, limits, depth=depth + 1, budget=budget):
                        yield Member(f"{name}/{inner.name}", inner.data, inner.refused)
                except UnsafeArchiveError as exc:
                    yield Member(name, refused=exc.reason)
                continue
            budget.total += len(member_bytes)
            yield Member(name, data=member_bytes)


def safe_extract_single_fit(data: bytes, limits: ArchiveLimits | None = None) -> tuple[str, bytes]:
    """The one FIT file of a Garmin download ZIP; anything else is refused with a reason."""
    limits = limits or ArchiveLimits()
    if len(data) > limits.max_member_bytes:
        raise UnsafeArchiveError(f"download too large ({len(data)} bytes)")
    zf = open_zip(data)
    overlap = overlap_reason(zf)
    if overlap:
        raise UnsafeArchiveError(overlap)
    members = [i for i in zf.infolist() if not i.is_dir()]
    if len(members) != 1:
        names = ", ".join(repr(i.filename) for i in members[:5]) or "none"
        raise UnsafeArchiveError(
            f"expected exactly one .fit member in the download, found {len(members)}: {names}"
        )
    info = members[0]
    reason = unsafe_name_reason(info.filename) or _check_sizes(info, limits)
    if reason:
        raise UnsafeArchiveError(reason)
    if not info.filename.lower().endswith(FIT_SUFFIX):
        raise UnsafeArchiveError(f"download member {info.filename!r} is not a .fit file")
    try:
        return info.filename, _read_capped(zf, info, info.file_size)
    except _DAMAGED as exc:
        raise UnsafeArchiveError(f"download ZIP is damaged: {_one_line(exc)}", retryable=True) from exc
