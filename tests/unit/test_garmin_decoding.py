"""The bounded body decoder (sync/garmin/decoding.py): every encoding Garmin may use, and the cap."""

from __future__ import annotations

import gzip
import zlib

import pytest

from sync.garmin.decoding import BodyRefused, BodyUndecodable, read_capped
from sync.sandbox.faults import gzip_bomb

BODY = b'{"hrvSummaries": []}' * 500


def _chunks(data: bytes, size: int = 7) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize(
    ("encoding", "encoded"),
    [
        (None, BODY),
        ("identity", BODY),
        # mtime=0: the same bytes in every process (pytest-xdist workers must collect equal ids)
        ("gzip", gzip.compress(BODY, mtime=0)),
        ("GZIP", gzip.compress(BODY[:100], mtime=0) + gzip.compress(BODY[100:], mtime=0)),  # two members
        ("deflate", zlib.compress(BODY)),
        ("deflate", zlib.compress(BODY)[2:-4]),  # raw deflate, as some servers send it
    ],
    ids=["none", "identity", "gzip", "gzip-two-members", "zlib", "raw-deflate"],
)
def test_each_encoding_decodes_to_the_body(encoding: str | None, encoded: bytes) -> None:
    assert read_capped(_chunks(encoded), encoding, len(BODY)) == BODY


def test_the_cap_counts_decoded_bytes_and_stops_early() -> None:
    with pytest.raises(BodyRefused, match="decodes to more than"):
        read_capped(_chunks(gzip.compress(BODY), 1000), "gzip", len(BODY) - 1)
    with pytest.raises(BodyRefused, match="more than"):
        read_capped([BODY], None, len(BODY) - 1)
    bomb = gzip_bomb(64 << 20)  # 64 MiB of zeros in about 64 KB
    assert len(bomb) < 100_000
    with pytest.raises(BodyRefused):
        read_capped(_chunks(bomb, 64 * 1024), "gzip", 1 << 20)
    assert len(read_capped(_chunks(bomb, 64 * 1024), "gzip", 64 << 20)) == 64 << 20  # a valid member


def test_cut_short_or_corrupt_or_unasked_bodies_are_refused() -> None:
    with pytest.raises(BodyUndecodable):
        read_capped([gzip.compress(BODY)[:-30]], "gzip", 1 << 20)
    with pytest.raises(BodyUndecodable):
        read_capped([b"\x1f\x8bnot gzip at all"], "gzip", 1 << 20)
    with pytest.raises(BodyRefused, match="not asked for"):
        read_capped([b"..."], "br", 1 << 20)
