"""Soak: two `legday import` processes at once on twin folders, round after round (issue 18, item 9).

Twins are byte-different copies of the same recordings (testkit/twins.py: a zeroed header CRC
with the file CRC recomputed, or an inverted file CRC). Each round adds an athlete and starts
`legday import` on the originals and on the twins together (which one starts first alternates);
both walk the same names in the same order, so they meet on file after file. Expected: each
recording stored once (raw files = recordings, activities = their sessions), and every file
imported by exactly one of the two and reported as already known by the other.

    .venv/bin/python bench/soak_import.py [--rounds 10] [--corpus ../shared/corpus/fit]

Runs on SQLite (the embedded default) and PostgreSQL (LEGDAY_BENCH_PG_ADMIN; a scratch
database is created and dropped). Prints one table row per database; exits 1 when a round
stored a recording twice or lost one.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from sync.config import Settings  # noqa: E402
from sync.db.migrate import upgrade  # noqa: E402
from sync.db.models import Activity, Athlete, RawFile  # noqa: E402
from sync.db.session import engine_for, session_scope  # noqa: E402
from testkit.twins import TwinSet, import_twins_at_once, make_twin_folders  # noqa: E402

PG_ADMIN = os.environ.get("LEGDAY_BENCH_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
FOLDERS = ("run", "strength", "other", "large")


def _stored(settings: Settings, name: str) -> tuple[int, int]:
    with session_scope(settings) as s:
        athlete_id = s.scalar(select(Athlete.id).where(Athlete.name == name))
        raws = s.scalar(select(func.count()).select_from(RawFile).where(RawFile.athlete_id == athlete_id))
        acts = s.scalar(select(func.count()).select_from(Activity).where(Activity.athlete_id == athlete_id))
    return raws, acts


def soak(label: str, settings: Settings, twins: TwinSet, rounds: int) -> tuple[str, bool]:
    """`rounds` races on one database; the table row and whether every round held."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGDAY_")}
    env["LEGDAY_DATA_DIR"] = str(settings.data_dir)
    if settings.database_url:
        env["LEGDAY_DATABASE_URL"] = settings.database_url
    cli = [sys.executable, "-c", "from sync.cli import main; main()"]
    bad: list[str] = []
    splits: list[str] = []
    started = time.monotonic()
    for i in range(rounds):
        name = f"round{i}"
        subprocess.run(
            [*cli, "athlete", "add", name, "--timezone", "UTC"], env=env, check=True, capture_output=True
        )
        pair = twins if i % 2 == 0 else TwinSet(twins.right, twins.left, twins.recordings, twins.activities)
        first, second = import_twins_at_once(pair, name, env)
        raws, acts = _stored(settings, name)
        splits.append(f"{first.imported}/{second.imported}")
        ok = (
            (raws, acts) == (twins.recordings, twins.activities)
            and first.code == second.code == 0
            and first.imported + second.imported == twins.recordings
            and first.known + second.known == twins.recordings
        )
        verdict = "ok" if ok else "FAILED"
        print(
            f"{label} round {i}: {raws} raw files, {acts} activities; "
            f"imported {first.imported}+{second.imported}, known {first.known}+{second.known}, "
            f"exit {first.code}/{second.code}: {verdict}",
            flush=True,
        )
        if not ok:
            errors = f"{first.stderr[-200:]} {second.stderr[-200:]}"
            bad.append(f"round {i}: {raws} raw files, {acts} activities ({errors})")
    took = time.monotonic() - started
    observed = (
        f"{rounds - len(bad)}/{rounds} rounds stored {twins.recordings} recordings, "
        f"{twins.activities} activities once; stores split between the two imports "
        f"{', '.join(splits)}; {took:.0f} s"
    )
    if bad:
        observed += "; " + "; ".join(bad[:3])
    row = (
        f"| concurrency: two `legday import` at once on twin folders ({label}) | {rounds} rounds x "
        f"{twins.recordings} recordings | each recording stored once; the other import reports it known "
        f"| {observed} | {'ok' if not bad else 'FAILED'} |"
    )
    return row, not bad


def main() -> int:
    """Race the imports on SQLite and PostgreSQL; print the table rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="Races per database.")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "fit")
    args = parser.parse_args()
    sources = [p for folder in FOLDERS for p in sorted((args.corpus / folder).glob("*.fit"))]
    db_name = f"legday_soak_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    pg_url = PG_ADMIN.rsplit("/", 1)[0] + f"/{db_name}"
    rows: list[str] = []
    held = True
    try:
        with tempfile.TemporaryDirectory() as tmp:
            twins = make_twin_folders(sources, Path(tmp) / "twins")
            print(f"{len(sources)} corpus files: {twins.recordings} recordings, {twins.activities} sessions")
            for label, url in (("SQLite", None), ("PostgreSQL", pg_url)):
                settings = Settings(data_dir=Path(tmp) / label, database_url=url)
                upgrade(settings)
                row, ok = soak(label, settings, twins, args.rounds)
                engine_for(settings.sqlalchemy_url).dispose()
                rows.append(row)
                held &= ok
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()
    print()
    print("| fault / attack | runs | expected | observed | result |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(row)
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())
