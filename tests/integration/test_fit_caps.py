"""A FIT file may produce only so much: sessions, sets and records are capped (issue 18, item 11).

The crafted files (testkit/fit_bombs.py) are far under the size cap and once asked for
unbounded work: 50,000 sessions in 0.95 MB stored 50,000 activities, 300,000 sets in 6 MB
made every later verdict slow, 4 million records in 8 MB took 19 s to decode. Each is now
quarantined with its reason as soon as the cap is passed. The imports run in a child process
under the memory limit of testkit/helpers.py, so a regression cannot take the machine down.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sync.config import Settings
from sync.db.models import Activity, Quarantine, RawFile, StrengthSet
from sync.db.session import session_scope
from sync.errors import FitDecodeError
from sync.fit.decode import decode_fit, decode_fit_reference
from sync.fit.types import FitLimits
from testkit.fit_bombs import many_records, many_sessions, many_sets
from testkit.helpers import legday_process, run_cli

# The files, and the reason each must be quarantined with (default caps).
BOMBS: dict[str, tuple[Callable[[], bytes], str]] = {
    "sessions": (
        lambda: many_sessions(50_000),
        "too many sessions: more than 200 in one file (LEGDAY_MAX_FIT_SESSIONS)",
    ),
    "sets": (lambda: many_sets(300_000), "too many sets: more than 3000 in one file (LEGDAY_MAX_FIT_SETS)"),
    "records": (
        lambda: many_records(4_000_000),
        "too many records: more than 1000000 data records in one file (LEGDAY_MAX_FIT_RECORDS)",
    ),
}


def _env(child_env: dict[str, str], settings: Settings) -> dict[str, str]:
    env = dict(child_env)
    if settings.database_url:
        env["LEGDAY_DATABASE_URL"] = settings.database_url
    return env


@pytest.mark.parametrize("kind", BOMBS)
def test_a_file_over_a_cap_is_quarantined_with_its_reason(
    kind: str, db_settings: Settings, child_env: dict[str, str], tmp_path: Path
) -> None:
    make, reason = BOMBS[kind]
    bomb = tmp_path / f"{kind}.fit"
    bomb.write_bytes(make())
    assert run_cli("athlete", "add", "ana", "--timezone", "UTC").exit_code == 0
    result = legday_process("import", str(bomb), env=_env(child_env, db_settings), timeout=120)
    assert result.returncode == 3, result.stderr
    assert f"quarantined {bomb}: {reason}" in result.stdout.splitlines(), result.stdout
    with session_scope(db_settings) as s:
        assert [q.reason for q in s.scalars(select(Quarantine))] == [reason]
        for model in (RawFile, Activity, StrengthSet):
            assert s.scalar(select(func.count()).select_from(model)) == 0, model


def test_a_file_at_the_caps_imports_and_one_more_is_refused(
    db_settings: Settings, child_env: dict[str, str], tmp_path: Path
) -> None:
    env = _env(child_env, db_settings) | {
        "LEGDAY_MAX_FIT_SESSIONS": "4",
        "LEGDAY_MAX_FIT_SETS": "10",
        "LEGDAY_MAX_FIT_RECORDS": "100",
    }
    assert run_cli("athlete", "add", "ana", "--timezone", "UTC").exit_code == 0
    files = {"at-cap-sessions": many_sessions(4), "at-cap-sets": many_sets(10)}
    for name, data in files.items():
        (tmp_path / f"{name}.fit").write_bytes(data)
    result = legday_process("import", *(str(tmp_path / f"{n}.fit") for n in files), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    with session_scope(db_settings) as s:
        assert s.scalar(select(func.count()).select_from(Activity)) == 5
        assert s.scalar(select(func.count()).select_from(StrengthSet)) == 10
    over = tmp_path / "over.fit"
    over.write_bytes(many_sessions(5))
    result = legday_process("import", str(over), env=env)
    assert result.returncode == 3
    assert f"quarantined {over}: too many sessions: more than 4 in one file (LEGDAY_MAX_FIT_SESSIONS)" in (
        result.stdout
    )
    parsed = legday_process(
        "parse", str(tmp_path / "at-cap-sets.fit"), env=env | {"LEGDAY_MAX_FIT_SETS": "9"}
    )
    assert parsed.returncode == 1
    assert parsed.stderr.strip().endswith("too many sets: more than 9 in one file (LEGDAY_MAX_FIT_SETS)")


@pytest.mark.parametrize(
    ("data", "limits", "reason"),
    [
        (many_sessions(3), FitLimits(sessions=2), "too many sessions: more than 2 in one file"),
        (many_sets(6), FitLimits(sets=5), "too many sets: more than 5 in one file"),
        # file_id, the first record, 40 compressed ones, the session: 43 data records
        (many_records(41), FitLimits(records=42), "too many records: more than 42 data records in one file"),
    ],
    ids=["sessions", "sets", "records"],
)
def test_both_decoders_stop_at_a_cap_with_the_same_reason(
    data: bytes, limits: FitLimits, reason: str
) -> None:
    for decoder in (decode_fit, decode_fit_reference):
        with pytest.raises(FitDecodeError) as caught:
            decoder(data, limits=limits)
        assert caught.value.reason.startswith(reason), (decoder, caught.value.reason)
        one_more = FitLimits(
            sessions=limits.sessions + 1 if "sessions" in reason else limits.sessions,
            sets=limits.sets + 1 if "sets" in reason else limits.sets,
            records=limits.records + 1 if "records" in reason else limits.records,
        )
        assert decoder(data, limits=one_more).sessions  # exactly at the cap: decoded
