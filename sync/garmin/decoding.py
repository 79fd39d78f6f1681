"""Reading a Garmin reply body with a cap on its decoded size, whatever its Content-Encoding.

Garmin gzips its JSON. urllib3 would inflate a body as a whole (`response.content`), so a few
megabytes on the wire could become gigabytes in memory (a gzip bomb). Here the body is read raw
(`decode_content=False`) and inflated by our own bounded decoder: zlib never produces more than
the room left under the cap, so memory stays at about the cap, and a body over it is refused.
Only the encodings legday asks for (`ACCEPT_ENCODING`) are decoded; any other is refused.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

ACCEPT_ENCODING = "gzip, deflate"


class BodyRefused(Exception):
    """A body legday will not read: decoded, it exceeds the cap, or its encoding was not asked for."""


class BodyUndecodable(Exception):
    """The body is not valid for its Content-Encoding: cut short or corrupt (worth fetching again)."""


class _Inflater:
    """zlib streams (gzip members, zlib or raw deflate), decoded at most `room` bytes at a time."""

    def __init__(self, encoding: str) -> None:
        self.wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
        self.encoding = encoding
        self.started = False
        self.obj = zlib.decompressobj(self.wbits)

    def feed(self, data: bytes, room: int) -> tuple[bytes, bytes]:
        """Decode from `data` at most `room` bytes; returns (decoded, input not yet consumed)."""
        try:
            out = self.obj.decompress(data, room)
        except zlib.error:
            if self.encoding == "deflate" and not self.started:
                # Some servers send raw deflate for "deflate" (no zlib header): as urllib3 does.
                self.wbits, self.started = -zlib.MAX_WBITS, True
                self.obj = zlib.decompressobj(self.wbits)
                return self.feed(data, room)
            raise BodyUndecodable("the compressed body is corrupt") from None
        self.started = True
        rest = self.obj.unconsumed_tail
        if self.obj.eof and self.obj.unused_data:
            # A gzip body may hold several members one after another.
            rest = self.obj.unused_data + rest
            self.obj = zlib.decompressobj(self.wbits)
        return out, rest

    def finish(self) -> None:
        """The whole body has arrived: a stream that did not end was cut short."""
        if self.started and not self.obj.eof:
            raise BodyUndecodable("the compressed body was cut short")


def read_capped(chunks: Iterable[bytes], content_encoding: str | None, cap: int) -> bytes:
    """The decoded body from raw `chunks`; `BodyRefused` as soon as it would exceed `cap` bytes."""
    encoding = (content_encoding or "identity").strip().lower()
    out = bytearray()
    if encoding in ("", "identity"):
        for chunk in chunks:
            out += chunk
            if len(out) > cap:
                raise BodyRefused(f"is more than {cap} bytes")
        return bytes(out)
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise BodyRefused(f"has a Content-Encoding that was not asked for ({encoding[:40]!r})")
    inflater = _Inflater("gzip" if encoding == "x-gzip" else encoding)
    for chunk in chunks:
        data = chunk
        while data:
            piece, data = inflater.feed(data, cap + 1 - len(out))
            out += piece
            if len(out) > cap:
                raise BodyRefused(f"decodes to more than {cap} bytes")
    inflater.finish()
    return bytes(out)
