"""Wall and CPU seconds of the everyday CLI commands against PostgreSQL, whole processes.

    python bench/bench_cli.py [--rounds 7]

Each command is run as an operator runs it (`legday ...`, a fresh interpreter each time, start-up
included) against a PostgreSQL database made for the run and migrated once: `athlete add`,
`token issue`, `report link`, `status`, `athlete list`. Two yardsticks run in the same rounds,
interleaved with the commands so a noisy machine slows all of them alike: `python -c pass` (the
interpreter alone) and `legday --help` (legday's start-up without a database). The figures are
medians over the rounds; the ratio to `python -c pass` is taken round by round.

Needs PostgreSQL (LEGDAY_BENCH_PG_ADMIN, default the local `test` database as `postgres`).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

PG_ADMIN = os.environ.get("LEGDAY_BENCH_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
LEGDAY = str(Path(sys.executable).with_name("legday"))


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall s, CPU s of the child) of one run; the run must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"legday_bench_cli_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        with tempfile.TemporaryDirectory() as data:
            env = {k: v for k, v in os.environ.items() if not k.startswith("LEGDAY_")}
            env.update(
                LEGDAY_DATA_DIR=data,
                LEGDAY_DATABASE_URL=PG_ADMIN.rsplit("/", 1)[0] + f"/{name}",
                LEGDAY_REPORT_SECRET="a-bench-secret-for-signed-links-0123456789",
            )
            timed([LEGDAY, "db", "upgrade"], env)
            timed([LEGDAY, "athlete", "add", "ana", "--timezone", "Europe/Berlin"], env)
            commands = {
                "python -c pass": [sys.executable, "-c", "pass"],
                "legday --help": [LEGDAY, "--help"],
                "athlete add": None,  # a new name each round
                "token issue": [LEGDAY, "token", "issue", "--athlete", "ana"],
                "report link": [LEGDAY, "report", "link", "--athlete", "ana"],
                "status": [LEGDAY, "status"],
                "athlete list": [LEGDAY, "athlete", "list"],
            }
            walls: dict[str, list[float]] = {k: [] for k in commands}
            cpus: dict[str, list[float]] = {k: [] for k in commands}
            ratios: dict[str, list[float]] = {k: [] for k in commands}
            for round_no in range(args.rounds + 1):  # round 0 warms the caches and is dropped
                this: dict[str, float] = {}
                for label, argv in commands.items():
                    argv = argv or [LEGDAY, "athlete", "add", f"b{round_no}", "--timezone", "UTC"]
                    wall, cpu = timed(argv, env)
                    if round_no:
                        walls[label].append(wall)
                        cpus[label].append(cpu)
                        this[label] = wall
                for label in this:
                    ratios[label].append(this[label] / this["python -c pass"])
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    print(f"{'command':<16} {'wall s':>8} {'CPU s':>8} {'x python':>9}   (medians of {args.rounds} rounds)")
    for label in commands:
        wall, cpu = statistics.median(walls[label]), statistics.median(cpus[label])
        print(f"{label:<16} {wall:8.3f} {cpu:8.3f} {statistics.median(ratios[label]):9.1f}")


if __name__ == "__main__":
    main()
