"""The same recording is stored once, also when two imports of twin copies run at once.

Twins are byte-different copies of one recording (testkit/twins.py). Two `legday import`
processes started together on twin folders race file by file; the database's unique
recording key, not a check before the insert, decides which import stores a recording.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from sync.config import Settings
from sync.db.models import Activity, Athlete, RawFile
from sync.db.session import session_scope
from testkit.helpers import run_cli
from testkit.twins import TwinSet, import_twins_at_once, make_twin_folders
from tests.conftest import require_shared

ROUNDS = 3  # each round collides on many files (without the key: 27-46 activities of 18-29)


def _twins(tmp_path: Path) -> TwinSet:
    corpus = require_shared("corpus/fit")
    sources = sorted((corpus / "run").glob("*.fit")) + sorted((corpus / "strength").glob("*.fit"))
    return make_twin_folders(sources, tmp_path / "twins")


def _stored(settings: Settings, name: str) -> tuple[int, int]:
    with session_scope(settings) as s:
        athlete_id = s.scalar(select(Athlete.id).where(Athlete.name == name))
        raws = s.scalar(select(func.count()).select_from(RawFile).where(RawFile.athlete_id == athlete_id))
        acts = s.scalar(select(func.count()).select_from(Activity).where(Activity.athlete_id == athlete_id))
    return raws, acts


@pytest.mark.long
def test_concurrent_imports_of_twins_store_each_recording_once(
    db_settings: Settings, child_env: dict[str, str], tmp_path: Path
) -> None:
    twins = _twins(tmp_path)
    env = dict(child_env)
    if db_settings.database_url:
        env["LEGDAY_DATABASE_URL"] = db_settings.database_url
    for round_ in range(ROUNDS):
        name = f"round{round_}"
        assert run_cli("athlete", "add", name, "--timezone", "UTC").exit_code == 0
        left, right = import_twins_at_once(twins, name, env)
        for run in (left, right):
            assert run.code == 0 and run.quarantined == 0, run.stderr
        assert _stored(db_settings, name) == (twins.recordings, twins.activities), (left, right)
        # Every recording is stored by one import and reported as already known by the other.
        assert left.imported + right.imported == twins.recordings, (left, right)
        assert left.known + right.known == twins.recordings, (left, right)


def test_a_twin_imported_later_is_known_with_its_reason(
    db_session, db_settings: Settings, tmp_path: Path
) -> None:  # noqa: ANN001
    from sync.ingest.importer import import_fit_bytes

    twins = _twins(tmp_path)
    assert run_cli("athlete", "add", "ana", "--timezone", "UTC").exit_code == 0
    assert run_cli("import", twins.left).exit_code == 0
    ana = db_session.scalars(select(Athlete)).one()
    for twin in sorted(twins.right.iterdir()):
        outcome = import_fit_bytes(
            db_session, ana, twin.read_bytes(), source="file", name=str(twin), settings=db_settings
        )
        assert outcome.status == "known", outcome
        assert outcome.reason is not None and outcome.reason.startswith("same recording as "), outcome
        assert outcome.raw_file_id is not None
    db_session.commit()
    assert _stored(db_settings, "ana") == (twins.recordings, twins.activities)
