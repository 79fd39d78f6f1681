"""ZIP safety: traversal, bombs, member counts, damage."""

from __future__ import annotations

import pytest

from sync.errors import UnsafeArchiveError
from sync.ingest.archive import ArchiveLimits, iter_fit_members, safe_extract_single_fit
from testkit.helpers import RUN_FIT, make_zip


def test_single_member_download_is_extracted() -> None:
    data = RUN_FIT.read_bytes()
    name, fit = safe_extract_single_fit(make_zip({"123_ACTIVITY.fit": data}))
    assert name == "123_ACTIVITY.fit"
    assert fit == data


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        ({"a.fit": b"x" * 100, "b.fit": b"y" * 100}, "exactly one .fit member"),
        ({"../evil.fit": b"x" * 100}, "climbs out"),
        ({"/etc/evil.fit": b"x" * 100}, "absolute"),
        ({"notes.txt": b"x" * 100}, "not a .fit"),
    ],
)
def test_bad_downloads_are_refused(members: dict[str, bytes], expected: str) -> None:
    with pytest.raises(UnsafeArchiveError, match=expected):
        safe_extract_single_fit(make_zip(members))


def test_zip_bomb_is_refused_by_ratio() -> None:
    bomb = make_zip({"bomb.fit": b"\0" * (5 * 1024 * 1024)})
    assert len(bomb) < 10_000
    with pytest.raises(UnsafeArchiveError, match="compression ratio"):
        safe_extract_single_fit(bomb)


def test_truncated_zip_is_refused() -> None:
    data = make_zip({"1_ACTIVITY.fit": RUN_FIT.read_bytes()})
    with pytest.raises(UnsafeArchiveError, match="truncated or corrupt"):
        safe_extract_single_fit(data[: len(data) // 2])


def test_export_members_refused_one_by_one_and_nested_zips_read() -> None:
    inner = make_zip({"inner/run.fit": RUN_FIT.read_bytes()})
    outer = make_zip(
        {
            "DI_CONNECT/UploadedFiles_0-_Part1.zip": inner,
            "../escape.fit": b"x" * 50,
            "bomb.fit": b"\0" * (4 * 1024 * 1024),
            "readme.txt": b"ignored",
        }
    )
    members = {m.name: m for m in iter_fit_members(outer, ArchiveLimits())}
    assert members["DI_CONNECT/UploadedFiles_0-_Part1.zip/inner/run.fit"].data == RUN_FIT.read_bytes()
    assert "climbs out" in (members["../escape.fit"].refused or "")
    assert "compression ratio" in (members["bomb.fit"].refused or "")
    assert "readme.txt" not in members
