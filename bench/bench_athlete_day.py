"""CPU seconds of one steady-state athlete-day, split into decode, database, HTTP and other.

    python bench/bench_athlete_day.py [--rounds 7] [--run FIT] [--strength FIT]

The day: the Garmin sync of an account already synced up to yesterday, finding one run of
about an hour and one strength session (their FIT files downloaded and decoded, Garmin's
exercise sets applied) and wellness for the overlap window; then two verdicts (this
morning's and tomorrow's) and the morning email written to the outbox.

`--idle` leaves the activities out: the fixed cost of a day without training.

The Garmin sandbox runs in a separate process (`legday sandbox serve`), so only legday's
own CPU is counted: `time.process_time()` of this process around the day. Each round uses
a fresh SQLite database; the first round is a warm-up (imports, first-use caches) and is
not counted. The figure is the median round. The split comes from one more round under
cProfile (CPU time), attributing each function's own time by the file it lives in, and a
built-in's to its caller's (fitparse and sync/fit: decode; sqlalchemy, the drivers and
sync/db: database; garth, requests, urllib3, http, ssl, socket, json: HTTP; the rest:
other); cProfile slows everything down, so only its shares are used, applied to the median.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from testkit.smtp_server import free_port  # noqa: E402 - the free port the tests use

CORPUS_RUN = "run/fr935-run-indoor-01.fit"  # 57 minutes, one record a second
STRENGTH = REPO / "sync" / "samples" / "fr965-strength-multisport-cycling-legs-01.fit"

PARTS = {
    "decode": ("fitparse", "/sync/fit/"),
    "database": ("sqlalchemy", "sqlite3", "psycopg", "/sync/db/"),
    "HTTP": ("garth", "requests", "urllib3", "http/", "ssl", "socket", "json", "email/", "oauthlib"),
}


def _part(filename: str) -> str:
    for part, needles in PARTS.items():
        if any(n in filename for n in needles):
            return part
    return "other"


def _start_sandbox(fit_dir: Path, work: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    tokens = work / "tokens"
    env = {**os.environ, "LEGDAY_DATA_DIR": str(work / "sandbox-data")}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from sync.cli import main; main()", "sandbox", "serve"]
        + ["--port", str(port), "--fit-dir", str(fit_dir), "--tokens-dir", str(tokens)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not (tokens / "garth" / "oauth2_token.json").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the sandbox did not start")
        time.sleep(0.1)
    time.sleep(0.2)  # the token files are written before serve_forever
    return proc, f"http://127.0.0.1:{port}", tokens / "garth"


def _one_day(work: Path, url: str, garth_dir: Path, round_no: int) -> float:
    """Set up a fresh database and account (not counted), then the day (counted); its CPU s."""
    return _day_and_report(work, url, garth_dir, round_no)[0]


def _day_and_report(
    work: Path, url: str, garth_dir: Path, round_no: int, profiler: cProfile.Profile | None = None
) -> tuple[float, str]:
    """`_one_day`, with a line saying what the day's sync did."""
    from cryptography.fernet import Fernet
    from pydantic import SecretStr

    from sync.athletes import add_athlete
    from sync.config import Settings
    from sync.db.migrate import upgrade
    from sync.db.session import dispose_engines, session_scope
    from sync.db.tx import keep_progress
    from sync.garmin import tokens as tokenlib
    from sync.garmin_sync import WELLNESS_OVERLAP_DAYS, open_client, sync_account
    from sync.garmin_sync.accounts import add_tokens
    from sync.notify.compose import daily_message
    from sync.notify.outbox import write_to_outbox
    from sync.scheduling import local_today
    from sync.verdicts.compute import compute_verdict

    data = work / f"round-{round_no}"
    settings = Settings(
        data_dir=data,
        garmin_base_url=url,
        garmin_min_interval_s=0.0,
        # a steady day's wellness: the overlap window a synced account re-reads
        garmin_initial_days=WELLNESS_OVERLAP_DAYS,
        secret_key=SecretStr(Fernet.generate_key().decode()),
    )
    upgrade(settings)
    with session_scope(settings) as session:
        athlete = add_athlete(session, "ana", email="ana@example.org", timezone="UTC")
        account = add_tokens(session, athlete, tokenlib.garth_from_dir(garth_dir), settings)
        athlete_id, account_id = athlete.id, account.id

    if profiler is not None:
        profiler.enable()
    t0 = time.process_time()
    with session_scope(settings) as session:
        from sync.db.models import Athlete, GarminAccount

        athlete = session.get(Athlete, athlete_id)
        account = session.get(GarminAccount, account_id)
        assert athlete is not None and account is not None
        report = sync_account(
            session,
            account,
            open_client(session, account, settings, checkpoint=keep_progress(session)),
            settings=settings,
            checkpoint=keep_progress(session),
        )
        today = local_today(athlete.timezone)
        compute_verdict(session, athlete, today)
        compute_verdict(session, athlete, today + timedelta(days=1))
        message = daily_message(session, athlete, today, datetime.now(UTC), settings)
        write_to_outbox(message, settings.data_dir / "outbox")
    spent = time.process_time() - t0
    if profiler is not None:
        profiler.disable()
    dispose_engines()
    shutil.rmtree(data, ignore_errors=True)
    seen = (
        f"sync {report.status}: {report.requests} requests, {report.activities_imported} activities, "
        f"{report.garmin_sets} Garmin sets, {report.wellness_days} wellness days"
    )
    return spent, seen


def main(argv: list[str] | None = None) -> int:
    """Run the rounds and print the median CPU seconds per athlete-day and its split."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--run", type=Path, help=f"the run's FIT file (default: corpus {CORPUS_RUN})")
    ap.add_argument("--strength", type=Path, default=STRENGTH)
    ap.add_argument("--idle", action="store_true", help="no new activity: wellness, verdicts, email only")
    args = ap.parse_args(argv)

    from sync.config import get_settings

    corpus = Path(get_settings().corpus_dir)
    corpus = corpus if corpus.is_absolute() else (REPO / corpus).resolve()
    run = args.run or corpus / CORPUS_RUN
    if not run.exists():
        print(f"{run} not found: give --run", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        fit_dir = work / "fit"
        fit_dir.mkdir()
        if not args.idle:
            shutil.copy(run, fit_dir / run.name)
            shutil.copy(args.strength, fit_dir / args.strength.name)
        proc, url, garth_dir = _start_sandbox(fit_dir, work)
        try:
            seen = _day_and_report(work, url, garth_dir, 0)[1]  # warm-up
            spent = [_one_day(work, url, garth_dir, i + 1) for i in range(args.rounds)]
            profiler = cProfile.Profile(time.process_time)  # CPU time, as the figure is
            _day_and_report(work, url, garth_dir, args.rounds + 1, profiler)
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    shares = dict.fromkeys([*PARTS, "other"], 0.0)
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, callers) in stats.items():
        if filename == "~" and callers:
            # a built-in (a cursor's execute, a socket's send) counts for whoever called it
            filename = max(callers.items(), key=lambda kv: kv[1][3])[0][0]
        shares[_part(filename)] += tottime
    total = sum(shares.values()) or 1.0
    median = statistics.median(spent)
    what = "no activity" if args.idle else f"{run.name} + {args.strength.name}"
    print(f"steady-state athlete-day ({what}, wellness, 2 verdicts, email)")
    print(seen)
    print(
        f"CPU seconds: median {median:.3f} (min {min(spent):.3f}, max {max(spent):.3f}, {len(spent)} rounds)"
    )
    for part, value in shares.items():
        print(f"  {part:9} {value / total:6.1%}  ~{median * value / total:.3f} s")
    per_core = 15 * 60 / median
    print(f"athlete-days per core in 15 minutes: {per_core:.0f} (2 cores: {2 * per_core:.0f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
