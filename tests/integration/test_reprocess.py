"""`legday reprocess`: stored raw files decoded again, no duplicates, Garmin corrections kept."""

from __future__ import annotations

from sqlalchemy import func, select

from sync.config import Settings
from sync.db.models import Activity, StrengthSet
from sync.db.session import session_scope
from tests.helpers import LEG_DAY_FIT, RUN_FIT, run_cli


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
