"""Unbounded work from small FIT files (issue 18, item 11): import time and verdict time.

    python bench/bench_fit_caps.py [--scale 1.0] [--repeats 3] [--skip-import] [--skip-verdict]

1. Import of the crafted files of testkit/fit_bombs.py (50,000 sessions in 0.95 MB, 300,000 sets
   in 6 MB, 4 million records in 8 MB; `--scale` shrinks them), each by `legday import` in a
   child process on a fresh SQLite data dir: with the default caps, and with the caps lifted
   (`LEGDAY_MAX_FIT_*` = 10^9, i.e. what legday did before them). Wall time, peak RSS, and
   what was stored.
2. The verdict for one day (`compute_verdict`, in this process, median of `--repeats`) on
   SQLite and PostgreSQL, side by side: a small history (60 days: runs, a leg day, nights); the
   same plus six years of older training (4,380 activities, 43,800 sets, 2,190 nights); and that
   plus what pre-cap files could store inside the windows (a 300,000-set session yesterday,
   50,000 one-minute runs ten days back), with the ratios to the small one.

PostgreSQL at LEGDAY_BENCH_PG_ADMIN (a scratch database is created and dropped).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from sync.config import Settings  # noqa: E402
from sync.db.migrate import upgrade  # noqa: E402
from sync.db.models import Activity, Athlete, Quarantine, StrengthSet  # noqa: E402
from sync.db.session import engine_for, session_scope  # noqa: E402
from sync.verdicts.compute import compute_verdict  # noqa: E402
from testkit.big_history import (  # noqa: E402
    DAY,
    add_activities,
    add_old_history,
    add_wellness,
    analyze,
    at,
)
from testkit.factories import make_athlete  # noqa: E402
from testkit.fit_bombs import many_records, many_sessions, many_sets  # noqa: E402

PG_ADMIN = os.environ.get("LEGDAY_BENCH_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
LIFTED = {"LEGDAY_MAX_FIT_SESSIONS": "1000000000", "LEGDAY_MAX_FIT_SETS": "1000000000"} | {
    "LEGDAY_MAX_FIT_RECORDS": "1000000000"
}


def _import_once(data: bytes, env: dict[str, str], work: Path) -> tuple[float, float, str]:
    """(wall s, peak RSS MiB, what was stored) of `legday import` of one file."""
    path = work / "bomb.fit"
    path.write_bytes(data)
    cli = [sys.executable, "-c", "from sync.cli import main; main()"]
    subprocess.run(
        [*cli, "athlete", "add", "ana", "--timezone", "UTC"], env=env, check=True, capture_output=True
    )
    started = time.monotonic()
    proc = subprocess.Popen(
        [*cli, "import", str(path)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    settings = Settings(data_dir=Path(env["LEGDAY_DATA_DIR"]))
    with session_scope(settings) as s:
        acts = s.scalar(select(func.count()).select_from(Activity))
        sets = s.scalar(select(func.count()).select_from(StrengthSet))
        reason = s.scalar(select(Quarantine.reason))
    engine_for(settings.sqlalchemy_url).dispose()
    stored = f"quarantined: {reason}" if reason else f"{acts} activities, {sets} sets"
    return wall, usage.ru_maxrss / 1024, stored


def bench_imports(scale: float) -> None:
    """Part 1: the crafted files with and without the caps."""
    bombs: dict[str, Callable[[], bytes]] = {
        "sessions": lambda: many_sessions(int(50_000 * scale)),
        "sets": lambda: many_sets(int(300_000 * scale)),
        "records": lambda: many_records(int(4_000_000 * scale)),
    }
    print("| file | bytes | caps | import wall s | peak RSS MiB | stored |")
    print("|---|---|---|---|---|---|")
    ratios = []
    for kind, make in bombs.items():
        data = make()
        walls = {}
        for label, extra in (("lifted (before)", LIFTED), ("default (after)", {})):
            with tempfile.TemporaryDirectory() as tmp:
                env = {k: v for k, v in os.environ.items() if not k.startswith("LEGDAY_")}
                env |= {"LEGDAY_DATA_DIR": tmp + "/data", **extra}
                wall, rss, stored = _import_once(data, env, Path(tmp))
            walls[label] = wall
            print(f"| {kind} | {len(data):,} | {label} | {wall:.2f} | {rss:.0f} | {stored} |", flush=True)
        ratios.append((kind, walls["lifted (before)"] / walls["default (after)"]))
    print()
    print("import time before / after: " + ", ".join(f"{k} {r:.1f}x" for k, r in ratios))


def _verdict_seconds(settings: Settings, name: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        with session_scope(settings) as s:
            athlete = s.scalars(select(Athlete).where(Athlete.name == name)).one()
            started = time.perf_counter()
            compute_verdict(s, athlete, DAY)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def _histories(settings: Settings, scale: float) -> None:
    """small: 60 days; old: the same plus six older years; excess: old plus pre-cap rows."""
    with session_scope(settings) as s:
        athletes = {}
        for name in ("small", "old", "excess"):
            athletes[name] = athlete = make_athlete(s, name)
            recent = [DAY - timedelta(days=i) for i in range(1, 62)]
            add_activities(s, athlete, [(at(d, 7), "running", 0) for d in recent[:40]])
            add_activities(s, athlete, [(at(DAY - timedelta(days=2), 18), "training", 12)])
            add_wellness(s, athlete, recent)
        for name in ("old", "excess"):
            add_old_history(s, athletes[name], years_back=1)
            add_old_history(s, athletes[name], years_back=4)
        excess = athletes["excess"]
        add_activities(s, excess, [(at(DAY - timedelta(days=1), 18), "training", int(300_000 * scale))])
        add_activities(s, excess, [(at(DAY - timedelta(days=10), 7), "running", 0)] * int(50_000 * scale))
        analyze(s)


def bench_verdicts(scale: float, repeats: int) -> None:
    """Part 2: one verdict, small vs huge histories, on both databases."""
    print(
        "| database | small: verdict s | + 6 older years: verdict s (ratio) "
        "| + pre-cap excess in the windows: verdict s (ratio) |"
    )
    print("|---|---|---|---|")
    db_name = f"legday_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    pg_url = PG_ADMIN.rsplit("/", 1)[0] + f"/{db_name}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for label, url in (("SQLite", None), ("PostgreSQL", pg_url)):
                settings = Settings(data_dir=Path(tmp) / label, database_url=url)
                upgrade(settings)
                _histories(settings, scale)
                small, old, excess = (
                    _verdict_seconds(settings, n, repeats) for n in ("small", "old", "excess")
                )
                cells = [
                    f"{small:.3f}",
                    f"{old:.3f} ({old / small:.1f}x)",
                    f"{excess:.3f} ({excess / small:.1f}x)",
                ]
                print(f"| {label} | " + " | ".join(cells) + " |", flush=True)
                engine_for(settings.sqlalchemy_url).dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()


def main() -> int:
    """Run both parts and print their tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="Shrink the crafted files and the excess.")
    parser.add_argument("--repeats", type=int, default=3, help="Verdicts timed per history (median).")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--skip-verdict", action="store_true")
    args = parser.parse_args()
    if not args.skip_import:
        bench_imports(args.scale)
        print()
    if not args.skip_verdict:
        bench_verdicts(args.scale, args.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
