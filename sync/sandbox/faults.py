"""Fault switches for the sandbox: what to break, where, for whom, and how many times."""

from __future__ import annotations

import functools
import re
import struct
import threading
import zlib
from dataclasses import dataclass, field
from typing import Any, Literal

FaultKind = Literal[
    "status",  # answer `status` (with optional Retry-After / body) instead of the real response
    "reset",  # close the connection without an answer (TCP RST)
    "truncate",  # send a Content-Length larger than the body, then close (body cut short)
    "truncate_after",  # do what the request asks, then cut its answer short (the answer is lost)
    "reset_after",  # do what the request asks, then reset the connection without an answer
    "truncated_zip",  # a well-formed HTTP answer whose ZIP payload is cut in half
    "hang",  # wait `seconds` before answering (longer than the client timeout: a timeout)
    "expire_token",  # treat the Bearer token as expired (-> 401), as if its time had passed
    "cloudflare_429",  # Cloudflare's HTML "Access denied" page with 429
    "gzip_bomb",  # 200, Content-Encoding gzip: ~2 MB on the wire that inflate to `decoded` bytes
]


@dataclass
class Fault:
    """One switch. `times=None` means every matching request until removed."""

    kind: FaultKind
    path: str = ""  # regex searched in the request path; "" matches everything
    method: str | None = None
    account: str | None = None  # display name; None = every account
    times: int | None = 1
    status: int = 500
    retry_after: str | None = None
    body: bytes | None = None
    seconds: float = 0.0
    decoded: int = 2 << 30  # gzip_bomb: the inflated size (2 GiB)
    hits: int = 0

    def matches(self, method: str, path: str, account: str | None) -> bool:
        """Does this fault apply to the request?"""
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method and self.method != method:
            return False
        if self.account and self.account != account:
            return False
        return not self.path or re.search(self.path, path) is not None


@dataclass
class Faults:
    """The set of active switches (thread-safe) plus global latency."""

    latency_ms: float = 0.0
    _faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: FaultKind, path: str = "", *, times: int | None = 1, **kw: Any) -> Fault:
        """Switch a fault on; returns it (its `hits` counts how often it fired)."""
        fault = Fault(kind=kind, path=path, times=times, **kw)  # kw: Fault's other fields
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Switch every fault off."""
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str, account: str | None, kinds: tuple[str, ...]) -> Fault | None:
        """The first matching fault of one of `kinds`, consuming one of its `times`."""
        with self._lock:
            for fault in self._faults:
                if fault.kind in kinds and fault.matches(method, path, account):
                    fault.hits += 1
                    return fault
        return None


@functools.lru_cache(maxsize=4)
def gzip_bomb(decoded: int) -> bytes:
    """A valid gzip member of `decoded` zero bytes (rounded down to MiB), about 1/1000 the size.

    Built from one fully flushed deflate block repeated, so a 2 GiB bomb takes a second or two.
    """
    chunk = bytes(1 << 20)
    n = max(1, decoded >> 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(n):
        crc = zlib.crc32(chunk, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    trailer = struct.pack("<II", crc, (n << 20) & 0xFFFFFFFF)
    return header + block * n + deflate.flush() + trailer
