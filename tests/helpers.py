"""Small helpers for tests: run the real CLI, build ZIPs."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from typer.testing import CliRunner

from sync.cli import app

SAMPLES = Path(__file__).resolve().parents[1] / "sync" / "samples"
LEG_DAY_FIT = SAMPLES / "fr965-strength-multisport-cycling-legs-01.fit"
UPPER_FIT = SAMPLES / "fr965-strength-dumbbell-bodyweight-01.fit"
RUN_FIT = SAMPLES / "fr645m-run-01.fit"
SHORT_RUN_FIT = SAMPLES / "fr110-run-01.fit"


def run_cli(*args: str):  # noqa: ANN201 - click Result
    """Invoke `legday ARGS` in-process, like a user would."""
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def make_zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A ZIP holding `members` (names are written verbatim, even unsafe ones)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return buf.getvalue()
