"""Soak: Garmin misbehaving for 50 athletes over 30 simulated minutes (issue 12, item 3).

Random 429s (with and without Retry-After), 5xx bursts, connection resets, 10-second stalls
(past a 0.5 s client timeout), truncated ZIPs and bodies, 404s on one activity's sets, deleted
activities and expired tokens; two athletes lose their refresh token. Prints a table of each
fault and check (runs, expected, observed) and exits 1 when a check failed. The engine and the
checks are in testkit/chaos_garmin.py; tests/integration/test_garmin_chaos.py runs a short one.

    .venv/bin/python bench/soak_garmin.py [--athletes 50] [--minutes 30] [--seed 12]
    .venv/bin/python bench/soak_garmin.py --kind personal_api [--parallel 4]

`--kind personal_api` connects every athlete with a Personal API key instead (short
Retry-Afters in seconds and HTTP dates join the faults, a key is revoked instead of a refresh
token) and reports the requests beyond the Personal API's limits (goal 0).

PostgreSQL at LEGDAY_BENCH_PG_ADMIN (a scratch database is created and dropped); the emails go
to an SMTP sink on a free loopback port.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from sync.config import Settings  # noqa: E402
from sync.db.migrate import upgrade  # noqa: E402
from sync.db.session import engine_for  # noqa: E402
from sync.sandbox import Sandbox  # noqa: E402
from testkit.chaos_garmin import GarminChaos, chaos_settings, table  # noqa: E402
from testkit.smtp_server import SmtpRecorder, free_port  # noqa: E402

PG_ADMIN = os.environ.get("LEGDAY_BENCH_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    """The rows as a Markdown table (fault, runs, expected, observed)."""
    print("| fault / check | runs | expected | observed |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main() -> int:
    """Run the soak once; 0 when every check held."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--athletes", type=int, default=50)
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--fault-share", type=float, default=0.25, help="Share of accounts hit per tick.")
    parser.add_argument("--kind", choices=("garth", "personal_api"), default="garth")
    parser.add_argument("--parallel", type=int, default=1, help="Syncs of a tick run on this many threads.")
    args = parser.parse_args()

    db_name = f"legday_soak_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{db_name}"
    recorder = SmtpRecorder()
    smtp = Controller(recorder, hostname="127.0.0.1", port=free_port())
    smtp.start()
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory() as tmp, Sandbox() as sb:
            upgrade(engine=engine_for(url))
            base = Settings(
                data_dir=Path(tmp),
                database_url=url,
                smtp_host="127.0.0.1",
                smtp_port=smtp.port,
                smtp_security="none",
                mail_from="legday <legday@example.org>",
            )
            engine = GarminChaos(
                sb,
                chaos_settings(base, sb),
                athletes=args.athletes,
                seed=args.seed,
                kind=args.kind,
                parallel=args.parallel,
            )
            engine.messages = recorder.messages
            result = engine.run(args.minutes, fault_share=args.fault_share)
    finally:
        smtp.stop()
        engine_for(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()
    took = time.monotonic() - started
    print(
        f"{args.athletes} {args.kind} athletes, {args.minutes} simulated minutes, seed {args.seed}, "
        f"{args.parallel} thread(s): {took:.0f} s"
    )
    print_table(table(result))
    for problem in (
        result.missing_activities
        + result.doubled_activities
        + result.wellness_mismatches
        + result.early_requests
        + result.after_reauth_requests
        + result.hot_loops
        + result.email_problems
        + result.personal_api_violations
        + result.retry_after_ignored
    )[:40]:
        print("PROBLEM:", problem)
    print("all checks held" if result.ok else "SOME CHECKS FAILED")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
