"""`legday import`: files, folders, export ZIPs; idempotent; bad input quarantined."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sync.config import Settings
from sync.db.models import Activity, Quarantine, RawFile, StrengthSet
from sync.db.session import session_scope
from testkit.helpers import LEG_DAY_FIT, RUN_FIT, SHORT_RUN_FIT, make_zip, run_cli


def _counts(settings: Settings) -> dict[str, int]:
    with session_scope(settings) as s:
        return {
            m.__tablename__: s.scalar(select(func.count()).select_from(m))
            for m in (RawFile, Activity, StrengthSet, Quarantine)
        }


def _watch_folder(root: Path) -> Path:
    activity = root / "GARMIN" / "Activity"
    activity.mkdir(parents=True)
    for f in (LEG_DAY_FIT, RUN_FIT):
        (activity / f.name).write_bytes(f.read_bytes())
    return root


def test_folder_import_is_idempotent(db_settings: Settings, tmp_path: Path) -> None:
    assert run_cli("athlete", "add", "ana", "--timezone", "Europe/Berlin").exit_code == 0
    watch = _watch_folder(tmp_path / "usb")
    first = run_cli("import", watch)
    assert first.exit_code == 0, first.output
    assert "imported 2, already known 0, quarantined 0" in first.output
    before = _counts(db_settings)
    assert before["raw_file"] == 2
    assert before["activity"] == 3  # the leg-day file is multisport: cycling + strength
    assert before["strength_set"] == 83
    again = run_cli("import", watch)
    assert "imported 0, already known 2, quarantined 0" in again.output
    assert _counts(db_settings) == before
    raw_root = db_settings.raw_store_dir
    assert len(list(raw_root.rglob("*.fit"))) == 2


def test_stored_sessions_carry_local_dates_and_sets(db_session: Session, db_settings: Settings) -> None:
    assert run_cli("athlete", "add", "ana", "--timezone", "Australia/Sydney").exit_code == 0
    assert run_cli("import", LEG_DAY_FIT).exit_code == 0
    with session_scope(db_settings) as s:
        acts = s.scalars(select(Activity).order_by(Activity.session_index)).all()
        assert [a.sport for a in acts] == ["cycling", "training"]
        strength = acts[1]
        assert (
            strength.local_date
            == strength.start_utc.astimezone(__import__("zoneinfo").ZoneInfo("Australia/Sydney")).date()
        )
        sets = s.scalars(select(StrengthSet).where(StrengthSet.activity_id == strength.id)).all()
        assert len(sets) == 83
        assert {st.source for st in sets} == {"fit"}
        assert sum(st.lower_body for st in sets if st.set_type == "active") >= 6


def test_bad_input_is_quarantined_and_the_rest_goes_on(db_settings: Settings, tmp_path: Path) -> None:
    assert run_cli("athlete", "add", "ana", "--timezone", "UTC").exit_code == 0
    folder = tmp_path / "mixed"
    folder.mkdir()
    run = RUN_FIT.read_bytes()
    (folder / "good.fit").write_bytes(run)
    (folder / "empty.fit").write_bytes(b"")
    (folder / "truncated.fit").write_bytes(run[: len(run) // 3])
    (folder / "notfit.fit").write_bytes(b"<html>not a fit file</html>" * 20)
    (folder / "export.zip").write_bytes(
        make_zip(
            {
                "../escape.fit": b"x" * 64,
                "bomb.fit": b"\0" * (4 * 1024 * 1024),
                "ok/short.fit": SHORT_RUN_FIT.read_bytes(),
            }
        )
    )
    result = run_cli("import", folder)
    assert result.exit_code == 3, result.output
    assert "imported 2, already known 0, quarantined 5" in result.output
    assert "climbs out" in result.output and "compression ratio" in result.output
    with session_scope(db_settings) as s:
        reasons = {q.original_name.rsplit("/", 1)[-1]: q.reason for q in s.scalars(select(Quarantine))}
    assert len(reasons) == 5
    assert all(r and "\n" not in r for r in reasons.values())
    # the bytes of quarantined files are kept, nothing is lost
    with session_scope(db_settings) as s:
        kept = [q.store_path for q in s.scalars(select(Quarantine)) if q.store_path]
    assert all((db_settings.raw_store_dir / p).exists() for p in kept)
    assert len(kept) >= 3


def test_size_limit(db_settings: Settings, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    from sync.config import get_settings

    monkeypatch.setenv("LEGDAY_MAX_FIT_BYTES", "1000")
    get_settings.cache_clear()
    assert run_cli("athlete", "add", "ana", "--timezone", "UTC").exit_code == 0
    result = run_cli("import", RUN_FIT)
    assert result.exit_code == 3
    assert "too large" in result.output


def test_parse_json_and_errors(settings: Settings, tmp_path: Path) -> None:
    result = run_cli("parse", LEG_DAY_FIT, "--json")
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert doc["file_type"] == "activity"
    assert doc["product"] == "fr965"
    assert [s["sport"] for s in doc["sessions"]] == ["cycling", "training"]
    assert len(doc["sets"]) == 83
    assert doc["lb_sets"] == 16  # hand-checked: squat, deadlift, lunge, olympic lift, total body x0.5
    assert all(isinstance(s["category"], str) for s in doc["sets"])
    bad = tmp_path / "bad.fit"
    bad.write_bytes(b"")
    out = run_cli("parse", bad, "--json")
    assert out.exit_code == 1
    assert out.output.count("\n") == 1 and "bad.fit" in out.output


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fit"
BAD_CRC = FIXTURES / "sdk-activity-bad-file-crc-01.fit"


def test_missing_path_is_refused_without_a_trace(db_settings: Settings, tmp_path: Path) -> None:
    assert run_cli("athlete", "add", "ana", "--timezone", "UTC").exit_code == 0
    result = run_cli("import", tmp_path / "typo")
    assert result.exit_code == 2 and "no such file" in result.output
    assert _counts(db_settings)["quarantine"] == 0


def test_bad_crc_policy(db_settings: Settings, monkeypatch) -> None:  # noqa: ANN001
    from sync.config import get_settings

    assert run_cli("athlete", "add", "ana", "--timezone", "UTC").exit_code == 0
    used = run_cli("import", BAD_CRC)
    assert used.exit_code == 0, used.output
    with session_scope(db_settings) as s:
        assert s.scalars(select(RawFile)).one().crc_ok is False
    monkeypatch.setenv("LEGDAY_ACCEPT_BAD_CRC", "false")
    get_settings.cache_clear()
    assert run_cli("athlete", "add", "bo", "--timezone", "UTC").exit_code == 0
    refused = run_cli("import", BAD_CRC, "--athlete", "bo")
    assert refused.exit_code == 3 and "CRC mismatch" in refused.output
    parsed = run_cli("parse", BAD_CRC, "--json")
    assert parsed.exit_code == 1 and "CRC mismatch" in parsed.output
