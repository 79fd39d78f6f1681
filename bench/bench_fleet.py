"""Benchmark: one simulated morning of a fleet of athletes on real Redis, PostgreSQL and workers.

N athletes, each a Garmin user of the local sandbox with one or two activities yesterday and
last night's wellness, already in steady state (cursors at yesterday). `dispatch_syncs` queues
their syncs; `--workers` real `legday worker` processes (threads) sync them and compute the
verdicts, then the morning email to a loopback SMTP sink. Prints: time until every athlete is
synced, has both verdicts and has been emailed, Garmin requests per
athlete-day against the minimum the data needs, PostgreSQL transactions per athlete, Redis
memory of the queues at their peak, and CPU seconds per athlete-day (workers vs the sandbox).
Run on demand (never in the test suite):

    .venv/bin/python bench/bench_fleet.py --n 200 [--workers 2] [--threads 12] [--min-interval 0]

`--day` simulates a whole day instead (the beat, checks, syncs, recomputes and emails of N
athletes in six time zones, then the dispatch tick at 1k, 10k and 100k accounts): see
bench/fleet_day.py.

    .venv/bin/python bench/bench_fleet.py --day --n 120 [--ticks 1000,10000,100000]

Needs PostgreSQL (LEGDAY_BENCH_PG_ADMIN, default the local `test` database as `postgres`; a
fresh database is created and dropped) and Redis (LEGDAY_BENCH_REDIS, default DB 11, flushed).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from aiosmtpd.controller import Controller
from celery import Celery
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import create_engine, delete, func, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from garmin_requests import request_kind  # noqa: E402 - beside this script

from sync.athletes import add_athlete  # noqa: E402
from sync.config import Settings  # noqa: E402
from sync.db.migrate import upgrade  # noqa: E402
from sync.db.models import GarminAccount, SyncRun, VerdictRecord, WellnessDay  # noqa: E402
from sync.db.session import engine_for, session_scope  # noqa: E402
from sync.db.tx import keep_progress  # noqa: E402
from sync.garmin_sync.accounts import add_tokens  # noqa: E402
from sync.sandbox import Sandbox, SandboxAccount  # noqa: E402
from sync.sandbox.seed import load_fit_folder, place  # noqa: E402
from testkit.smtp_server import free_port  # noqa: E402 - the free port the tests use

PG_ADMIN = os.environ.get("LEGDAY_BENCH_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("LEGDAY_BENCH_REDIS", "redis://127.0.0.1:6379/11")
WELLNESS_CALLS_PER_DAY = 5  # HRV, resting HR, body battery (ranges) + sleep, readiness (per day)


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process and its reaped children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / ticks


class _MailSink:
    """An SMTP server on loopback that only counts what it accepts (the emails' destination)."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd
        with self._lock:
            self.count += 1
        return "250 Message accepted"


def _seed(sandbox: Sandbox, n: int, settings: Settings) -> dict[str, int]:
    """N sandbox users and linked athletes in steady state; returns the data's minimum requests."""
    sources = load_fit_folder(ROOT / "sync" / "samples")
    runs = [s for s in sources if s.type[0] != "strength_training"]
    strength = [s for s in sources if s.type[0] == "strength_training"]
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    minimum: Counter[str] = Counter()
    next_id = 30_000_000_000
    with session_scope(settings) as session:
        for i in range(n):
            picks = [runs[i % len(runs)]] if i % 2 == 0 else [strength[i % len(strength)]]
            if i % 3 == 0:  # a third of the athletes did two sessions
                picks.append(runs[(i + 1) % len(runs)])
            activities = []
            for src in picks:
                activities.append(place(src, yesterday, next_id))
                next_id += 1
            name = f"bench{i:05d}"
            sandbox.add_account(
                SandboxAccount(display_name=name, profile_id=50_000_000 + i, activities=activities)
            )
            athlete = add_athlete(session, name, email=f"{name}@example.org", timezone="UTC")
            athlete.max_hr, athlete.rest_hr = 190, 50
            account = add_tokens(session, athlete, sandbox.issue_garth_tokens(name), settings, verify=False)
            account.display_name = name
            account.activity_cursor = datetime.now(UTC) - timedelta(days=2)
            account.wellness_cursor = yesterday
            for back in range(3):  # the mornings before were synced: their nights are stored
                session.add(
                    WellnessDay(
                        athlete_id=athlete.id,
                        date=yesterday - timedelta(days=back),
                        hrv_last_night_ms=55.0,
                        resting_hr=50,
                        sleep_seconds=26_000,
                        training_readiness=60,
                    )
                )
            minimum["list"] += 1
            minimum["download"] += len(activities)
            minimum["exercise sets"] += sum(1 for a in activities if a.is_strength)
            minimum["wellness"] += WELLNESS_CALLS_PER_DAY  # last night only
    return dict(minimum)


CATEGORIES = (
    ("decode", ("fitparse", "/sync/fit/")),
    ("database", ("sqlalchemy", "psycopg")),
    ("HTTP", ("requests", "urllib3", "http/client", "socket", "garth", "/sync/garmin/", "json")),
)


def cpu_split(settings: Settings, account_ids: list[int]) -> dict[str, float]:
    """CPU seconds per sync by category: the same syncs in this process under cProfile.

    The sandbox runs in this process too, so its share (serving requests) is reported apart.
    """
    import cProfile
    import pstats

    from sync.garmin_sync import open_client, sync_account

    profile = cProfile.Profile(time.process_time)
    for account_id in account_ids:
        with session_scope(settings) as session:
            account = session.get(GarminAccount, account_id)
            assert account is not None
            client = open_client(session, account, settings, checkpoint=keep_progress(session))
            profile.enable()
            sync_account(session, account, client, settings=settings, checkpoint=keep_progress(session))
            profile.disable()
    split: Counter[str] = Counter()
    for (filename, _, _fn), row in pstats.Stats(profile).stats.items():  # type: ignore[attr-defined]
        own = row[2]  # tottime
        if "sandbox" in filename or "socketserver" in filename or "http/server" in filename:
            split["sandbox"] += own
            continue
        label = next((c for c, keys in CATEGORIES if any(k in filename for k in keys)), "other")
        split[label] += own
    return {k: v / len(account_ids) for k, v in split.items()}


def _rewind(session: Any, account_ids: list[int]) -> None:
    """Undo the profiled syncs: the athletes start the measured morning like the others."""
    from sync.db.models import Activity, RawFile, StrengthSet

    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    for account in session.scalars(select(GarminAccount).where(GarminAccount.id.in_(account_ids))):
        aid = account.athlete_id
        activity_ids = select(Activity.id).where(Activity.athlete_id == aid)
        session.execute(delete(StrengthSet).where(StrengthSet.activity_id.in_(activity_ids)))
        session.execute(delete(Activity).where(Activity.athlete_id == aid))
        session.execute(delete(RawFile).where(RawFile.athlete_id == aid))
        session.execute(delete(SyncRun).where(SyncRun.athlete_id == aid))
        session.execute(
            delete(WellnessDay).where(WellnessDay.athlete_id == aid, WellnessDay.date > yesterday)
        )
        account.activity_cursor = datetime.now(UTC) - timedelta(days=2)
        account.wellness_cursor = yesterday
        account.last_sync_at = None


def main() -> None:
    """Seed, run one morning, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=12)
    parser.add_argument("--min-interval", type=float, default=0.0, help="Pause between one account's calls.")
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--split", type=int, default=20, help="Syncs profiled in-process for the CPU split.")
    parser.add_argument(
        "--day",
        action="store_true",
        help="A whole simulated day instead (bench/fleet_day.py); --n 120 is plenty.",
    )
    parser.add_argument(
        "--ticks", default="1000,10000,100000", help="--day: fleet sizes of the tick measurement."
    )
    parser.add_argument("--skip-day", action="store_true", help="--day: only the tick measurement.")
    args = parser.parse_args()
    if args.day:
        import fleet_day

        day = None if args.skip_day else fleet_day.run_day(args.n, PG_ADMIN, REDIS_URL)
        print(fleet_day.report(day, None), flush=True)
        sizes = [int(x) for x in args.ticks.split(",") if x]
        print(fleet_day.report(None, fleet_day.tick_costs(sizes, PG_ADMIN) if sizes else None))
        return

    db_name = f"legday_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    db_url = PG_ADMIN.rsplit("/", 1)[0] + f"/{db_name}"
    broker = redis.Redis.from_url(REDIS_URL)
    broker.flushdb()
    workers: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp, Sandbox(fit_dir=None) as sandbox:
            key = Fernet.generate_key().decode()
            settings = Settings(
                data_dir=Path(tmp),
                database_url=db_url,
                garmin_base_url=sandbox.url,
                secret_key=SecretStr(key),
            )
            upgrade(settings)
            t0 = time.monotonic()
            minimum = _seed(sandbox, args.n, settings)
            print(f"seeded {args.n} athletes in {time.monotonic() - t0:.1f} s")
            split: dict[str, float] = {}
            if args.split:
                with session_scope(settings) as s:
                    ids = list(s.scalars(select(GarminAccount.id).order_by(GarminAccount.id)))
                split = cpu_split(
                    settings.model_copy(update={"garmin_min_interval_s": 0.0}), ids[: args.split]
                )
                with session_scope(settings) as s:  # back to the morning's starting state
                    _rewind(s, ids[: args.split])
            sink = _MailSink()
            smtp_port = free_port()
            mail = Controller(sink, hostname="127.0.0.1", port=smtp_port)
            mail.start()
            env = {k: v for k, v in os.environ.items() if not k.startswith("LEGDAY_")}
            env.update(
                LEGDAY_SMTP_HOST="127.0.0.1",
                LEGDAY_SMTP_PORT=str(smtp_port),
                LEGDAY_SMTP_SECURITY="none",
                LEGDAY_MAIL_FROM="legday <legday@example.org>",
                LEGDAY_DATABASE_URL=db_url,
                LEGDAY_REDIS_URL=REDIS_URL,
                LEGDAY_DATA_DIR=tmp,
                LEGDAY_SECRET_KEY=key,
                LEGDAY_GARMIN_BASE_URL=sandbox.url,
                LEGDAY_GARMIN_MIN_INTERVAL_S=str(args.min_interval),
                LEGDAY_LOG_LEVEL="WARNING",
            )
            legday = str(Path(sys.executable).with_name("legday"))
            for _ in range(args.workers):
                cmd = [
                    legday,
                    "worker",
                    "-c",
                    str(args.threads),
                    "--loglevel=WARNING",
                    "--",
                    "--without-gossip",
                ]
                workers.append(
                    subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                )
            time.sleep(5)  # the workers connect
            engine = engine_for(db_url)
            with engine.connect() as conn:
                xact0 = conn.execute(
                    text("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = :d"),
                    {"d": db_name},
                ).scalar_one()
            sandbox.clear_log()
            cpu0 = {w.pid: _cpu_s(w.pid) for w in workers}
            bench_cpu0 = time.process_time()
            client = Celery("bench", broker=REDIS_URL)
            start = time.monotonic()
            client.send_task("worker.tasks.dispatch_syncs", queue="legday")
            synced_at = verdicts_at = None
            peak_queue_bytes = 0
            while time.monotonic() - start < args.timeout:
                with session_scope(settings) as s:
                    synced = s.scalar(select(func.count()).where(GarminAccount.last_sync_at.is_not(None)))
                    verdicts = s.scalar(select(func.count()).select_from(VerdictRecord))
                usage = sum(broker.memory_usage(k) or 0 for k in broker.scan_iter(count=1000))
                peak_queue_bytes = max(peak_queue_bytes, usage)
                if synced_at is None and synced == args.n:
                    synced_at = time.monotonic() - start
                if verdicts >= 2 * args.n:
                    verdicts_at = time.monotonic() - start
                    break
                time.sleep(1.0)
            # The morning email, at the athletes' send time (06:30 UTC): one dispatch, as beat sends.
            morning = datetime.now(UTC).replace(hour=7, minute=0, second=0, microsecond=0)
            client.send_task(
                "worker.tasks.dispatch_emails", kwargs={"now": morning.isoformat()}, queue="legday"
            )
            emailed_at = None
            while time.monotonic() - start < args.timeout:
                if sink.count >= args.n:
                    emailed_at = time.monotonic() - start
                    break
                time.sleep(0.5)
            mail.stop()
            worker_cpu = 0.0
            for w in workers:
                procs = [w.pid] + [
                    int(c)
                    for t in Path(f"/proc/{w.pid}/task").iterdir()
                    for c in (t / "children").read_text().split()
                ]
                worker_cpu += sum(_cpu_s(p) for p in procs) - cpu0[w.pid]
            bench_cpu = time.process_time() - bench_cpu0
            with engine.connect() as conn:
                xact1 = conn.execute(
                    text("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = :d"),
                    {"d": db_name},
                ).scalar_one()
            with session_scope(settings) as s:
                statuses = Counter(s.scalars(select(SyncRun.status)).all())
            seen = Counter(request_kind(r.path) for r in sandbox.log)
            engine.dispose()
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:
                w.kill()
        broker.flushdb()
        engine_for(db_url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()

    n = args.n
    total, needed = sum(seen.values()), sum(minimum.values())
    print(
        f"athletes {n}, {args.workers} workers x {args.threads} threads, min interval {args.min_interval} s"
    )
    print(f"sync runs: {dict(statuses)}")
    print(
        f"all synced after {synced_at if synced_at is None else round(synced_at, 1)} s; "
        f"all verdicts after {verdicts_at if verdicts_at is None else round(verdicts_at, 1)} s; "
        f"all emailed after {emailed_at if emailed_at is None else round(emailed_at, 1)} s "
        f"({sink.count} emails)"
    )
    print(
        f"Garmin requests per athlete-day: {total / n:.2f} vs minimum {needed / n:.2f} "
        f"(ratio {total / needed:.2f})"
    )
    for kind in sorted(set(seen) | set(minimum)):
        print(f"  {kind:14s} {seen.get(kind, 0) / n:6.2f} vs {minimum.get(kind, 0) / n:6.2f}")
    print(f"PostgreSQL transactions per athlete: {(xact1 - xact0) / n:.1f}")
    print(
        f"Redis memory of the queues at their peak: {peak_queue_bytes / 1024:.0f} KiB "
        f"({peak_queue_bytes / n:.0f} B per athlete)"
    )
    print(f"CPU s per athlete-day: workers {worker_cpu / n:.3f}, sandbox+bench {bench_cpu / n:.3f}")
    if split:
        # cProfile inflates many small Python calls (fitparse most): use its shares only, applied
        # to the workers' unprofiled CPU time.
        whole = sum(split.values())
        parts = ", ".join(
            f"{k} {v / whole:.0%} (~{worker_cpu / n * v / whole:.3f} s)"
            for k, v in sorted(split.items(), key=lambda kv: -kv[1])
        )
        print(f"CPU split of a sync (cProfile shares over {args.split} syncs): {parts}")


if __name__ == "__main__":
    main()
