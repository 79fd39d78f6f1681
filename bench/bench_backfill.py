"""Benchmark: a one-year Garmin backfill against the sandbox with network latency.

Prints requests made vs the minimum the data needs, and wall time vs the latency floor
(requests x latency, since one account's calls are sequential). Run on demand:

    .venv/bin/python bench/bench_backfill.py [--days 365] [--latency-ms 100] [--fit-dir DIR]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sync.athletes import add_athlete  # noqa: E402
from sync.config import Settings  # noqa: E402
from sync.db.migrate import upgrade  # noqa: E402
from sync.db.session import session_scope  # noqa: E402
from sync.db.tx import keep_progress  # noqa: E402
from sync.garmin import endpoints as ep  # noqa: E402
from sync.garmin_sync import WELLNESS_WINDOW_DAYS, backfill, open_client  # noqa: E402
from sync.garmin_sync.accounts import add_tokens  # noqa: E402
from sync.sandbox import Sandbox  # noqa: E402

LIST_MAX = 1000  # the most activities one list call returns


def main() -> None:
    """Run the backfill and print the two ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--fit-dir", type=Path, default=ROOT / "sync" / "samples")
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory() as tmp,
        Sandbox(
            fit_dir=args.fit_dir,
            layout="year",
            year_days=args.days,
            latency_ms=args.latency_ms,
            wellness_days=args.days + 30,
        ) as sandbox,
    ):
        settings = Settings(
            data_dir=Path(tmp),
            garmin_base_url=sandbox.url,
            garmin_min_interval_s=0.0,
            secret_key=SecretStr(Fernet.generate_key().decode()),
        )
        upgrade(settings)
        today = sandbox.clock.today("UTC")
        since = today - timedelta(days=args.days)
        acts = sandbox.account.activities
        n_strength = sum(a.is_strength for a in acts)
        with session_scope(settings) as session:
            athlete = add_athlete(session, "bench", email=None, timezone="UTC")
            account = add_tokens(session, athlete, sandbox.issue_garth_tokens(), settings)
            sandbox.clear_log()
            started = time.perf_counter()
            report = backfill(
                session,
                account,
                open_client(session, account, settings, checkpoint=keep_progress(session)),
                since,
                settings=settings,
                today=today,
                checkpoint=keep_progress(session),
            )
            wall = time.perf_counter() - started

    days = (today - since).days + 1
    windows = math.ceil(days / WELLNESS_WINDOW_DAYS)
    minimum = (
        math.ceil(len(acts) / LIST_MAX)  # one list call per 1000 activities
        + len(acts)  # one FIT download each
        + n_strength  # exerciseSets for strength only
        + math.ceil(days / ep.HRV_RANGE_MAX_DAYS)  # HRV range
        + math.ceil(days / ep.BODY_BATTERY_RANGE_MAX_DAYS)  # body battery range
        + math.ceil(days / ep.RESTING_HR_RANGE_MAX_DAYS)  # resting HR range
        + 2 * days  # sleep and readiness have no range endpoint
    )
    floor = report.requests * args.latency_ms / 1000
    print(
        f"backfill of {days} days: {len(acts)} activities ({n_strength} strength), "
        f"{report.wellness_days} wellness days, status {report.status}"
    )
    print(
        f"requests: {report.requests} made vs {minimum} minimum the data needs "
        f"(ratio {report.requests / minimum:.2f}; {windows} resumable windows cost "
        f"{report.requests - minimum} extra list/range calls)"
    )
    print(
        f"wall time: {wall:.1f} s vs latency floor {floor:.1f} s "
        f"({report.requests} x {args.latency_ms:.0f} ms; ratio {wall / floor:.2f})"
    )
    assert report.activities_imported + report.activities_known == len(acts), report


if __name__ == "__main__":
    main()
