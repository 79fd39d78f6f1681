"""`legday reprocess`: stored raw files decoded again, no duplicates, Garmin corrections kept."""

from __future__ import annotations

import logging
import shutil

import pytest
from sqlalchemy import func, select, update

from sync.config import Settings
from sync.db.models import Activity, StrengthSet
from sync.db.session import session_scope
from sync.fit.decode import decode_fit
from sync.fit.trimp import trimp_from_seconds
from sync.fit.types import TrimpAthlete
from sync.ingest.rawstore import sha256_hex
from testkit.helpers import LEG_DAY_FIT, RUN_FIT, run_cli


def _snapshot(settings: Settings) -> tuple[int, int, float]:
    with session_scope(settings) as s:
        acts = s.scalar(select(func.count()).select_from(Activity))
        sets = s.scalar(select(func.count()).select_from(StrengthSet))
        run_trimp = s.scalar(select(Activity.trimp).where(Activity.sport == "running"))
    return acts, sets, run_trimp


def test_reprocess_follows_the_hr_profile_and_keeps_corrections(db_settings: Settings) -> None:
    assert (
        run_cli("athlete", "add", "ana", "--timezone", "UTC", "--max-hr", "200", "--rest-hr", "60").exit_code
        == 0
    )
    assert run_cli("import", LEG_DAY_FIT, RUN_FIT).exit_code == 0
    acts, sets, trimp_before = _snapshot(db_settings)
    # Garmin's exercise sets replaced the watch's guesses (what the sync stores): the athlete
    # relabelled set 0 and deleted set 1 in Garmin Connect.
    with session_scope(db_settings) as s:
        for st in s.scalars(select(StrengthSet)):
            st.source = "garmin"
        s.scalars(select(StrengthSet).where(StrengthSet.set_index == 0)).one().category = "lunge"
        s.delete(s.scalars(select(StrengthSet).where(StrengthSet.set_index == 1)).one())
    # A lower max HR means every beat is a larger share of the reserve: more TRIMP.
    assert run_cli("athlete", "set", "ana", "--max-hr", "180").exit_code == 0
    result = run_cli("reprocess")
    assert result.exit_code == 0, result.output
    assert "re-decoded 2 files (3 activities)" in result.output
    acts_after, sets_after, trimp_after = _snapshot(db_settings)
    assert (acts_after, sets_after) == (acts, sets - 1)  # the deleted set stays deleted
    assert trimp_after > trimp_before * 1.1
    with session_scope(db_settings) as s:
        kept = s.scalars(select(StrengthSet).where(StrengthSet.set_index == 0)).one()
        assert (kept.category, kept.source) == ("lunge", "garmin")
        assert s.scalar(select(func.count()).where(StrengthSet.source == "fit")) == 0


# --- a new HR profile recomputes TRIMP from the stored histograms: no re-decode --------


def _trimps(settings: Settings) -> dict[str, float | None]:
    with session_scope(settings) as s:
        return dict(s.execute(select(Activity.source_id, Activity.trimp).order_by(Activity.source_id)).all())


def _decoded_trimps(profile: TrimpAthlete) -> dict[str, float | None]:
    """What a fresh decode of the two files gives for `profile`, by source id."""
    out: dict[str, float | None] = {}
    for path in (LEG_DAY_FIT, RUN_FIT):
        data = path.read_bytes()
        for session in decode_fit(data).sessions:
            out[f"{sha256_hex(data)}/{session.index}"] = trimp_from_seconds(session.hr_seconds, profile)
    return out


def test_athlete_set_recomputes_trimp_without_the_raw_files(db_settings: Settings) -> None:
    """`athlete set --max-hr/--rest-hr/--sex` updates every stored TRIMP from the database
    alone: the raw store is emptied first, so a re-decode could not happen."""
    assert (
        run_cli("athlete", "add", "ana", "--timezone", "UTC", "--max-hr", "200", "--rest-hr", "60").exit_code
        == 0
    )
    assert run_cli("import", LEG_DAY_FIT, RUN_FIT).exit_code == 0
    before = _trimps(db_settings)
    assert before == _decoded_trimps(TrimpAthlete("male", 200, 60))
    assert all(value is not None for value in before.values())
    shutil.rmtree(db_settings.raw_store_dir)

    result = run_cli("athlete", "set", "ana", "--max-hr", "180")
    assert result.exit_code == 0, result.output
    after = _trimps(db_settings)
    assert after == _decoded_trimps(TrimpAthlete("male", 180, 60))
    assert all(after[k] > before[k] for k in before)  # type: ignore[operator]

    assert run_cli("athlete", "set", "ana", "--rest-hr", "50", "--sex", "female").exit_code == 0
    assert _trimps(db_settings) == _decoded_trimps(TrimpAthlete("female", 180, 50))
    with session_scope(db_settings) as s:  # the histograms themselves are untouched
        assert s.scalar(select(func.count()).where(Activity.hr_seconds.is_(None))) == 0


def test_rows_stored_before_0012_get_their_histogram_from_the_raw_store(db_settings: Settings) -> None:
    """Rows without a histogram (stored before migration 0012) are decoded once, lazily, on
    the first change of the HR profile; an athlete edit that leaves it alone decodes nothing."""
    assert (
        run_cli("athlete", "add", "ana", "--timezone", "UTC", "--max-hr", "200", "--rest-hr", "60").exit_code
        == 0
    )
    assert run_cli("import", LEG_DAY_FIT, RUN_FIT).exit_code == 0
    with session_scope(db_settings) as s:
        s.execute(update(Activity).values(hr_seconds=None))

    assert run_cli("athlete", "set", "ana", "--send-time", "07:00", "--max-hr", "200").exit_code == 0
    with session_scope(db_settings) as s:  # same profile: nothing to recompute, nothing decoded
        assert s.scalar(select(func.count()).where(Activity.hr_seconds.is_not(None))) == 0

    result = run_cli("athlete", "set", "ana", "--max-hr", "185")
    assert result.exit_code == 0, result.output
    assert _trimps(db_settings) == _decoded_trimps(TrimpAthlete("male", 185, 60))
    with session_scope(db_settings) as s:
        assert s.scalar(select(func.count()).where(Activity.hr_seconds.is_(None))) == 0


def test_a_row_without_histogram_or_raw_file_keeps_its_trimp_and_says_so(
    db_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """No histogram and no raw bytes: the edit still succeeds, that TRIMP stays, a warning names the file."""
    assert (
        run_cli("athlete", "add", "ana", "--timezone", "UTC", "--max-hr", "200", "--rest-hr", "60").exit_code
        == 0
    )
    assert run_cli("import", RUN_FIT).exit_code == 0
    with session_scope(db_settings) as s:
        s.execute(update(Activity).values(hr_seconds=None))
    before = _trimps(db_settings)
    shutil.rmtree(db_settings.raw_store_dir)
    with caplog.at_level(logging.WARNING, logger="sync.ingest.load"):
        result = run_cli("athlete", "set", "ana", "--max-hr", "185")
    assert result.exit_code == 0, result.output
    assert _trimps(db_settings) == before
    assert any(
        "TRIMP not recomputed" in r.getMessage() and RUN_FIT.name in r.getMessage() for r in caplog.records
    )
