"""Soak: Garmin at the edges (issue 18 items 2, 10, 13). Prints rows for docs/reliability.md.

- concurrent pushes: two workout pushes (today's and tomorrow's) at once for one DI account
  whose access token has just expired (its refresh token rotates), on a real `legday worker`
  (prefork, two children, PostgreSQL, Redis): the account stays ok, both pushes are done;
- lost answers: Garmin does the create or the schedule but its answer is cut short or the
  connection is reset (or reset before it does it): one workout and one calendar entry per
  day, and a call whose answer was lost is never sent again blindly;
- compressed bodies: gzip bombs (256 MiB to 4 GiB once inflated) on JSON calls and downloads,
  in a child limited to 1 GiB of address space: each is one refused call, memory stays bounded.

    .venv/bin/python bench/soak_garmin_edges.py [--push-rounds 10] [--lost-rounds 48] [--bombs 24]

PostgreSQL at LEGDAY_BENCH_PG_ADMIN (a scratch database is created and dropped); Redis at
LEGDAY_BENCH_REDIS_URL (default: database 13 of LEGDAY_TEST_REDIS_URL or 127.0.0.1:6379).
Exits 1 when a row did not hold.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from sqlalchemy import create_engine, select, text  # noqa: E402

from sync.athletes import add_athlete  # noqa: E402
from sync.config import Settings  # noqa: E402
from sync.db.migrate import upgrade  # noqa: E402
from sync.db.models import GarminAccount, PushedWorkout  # noqa: E402
from sync.db.session import engine_for, session_scope  # noqa: E402
from sync.garmin_sync.accounts import add_tokens  # noqa: E402
from sync.sandbox import Sandbox, SandboxAccount  # noqa: E402
from sync.scheduling import local_today  # noqa: E402
from sync.verdicts.compute import compute_verdict, record_soreness  # noqa: E402

PG_ADMIN = os.environ.get("LEGDAY_BENCH_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get(
    "LEGDAY_BENCH_REDIS_URL",
    os.environ.get("LEGDAY_TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/") + "/13",
)
LEGDAY = str(Path(sys.executable).with_name("legday"))
SAMPLES = ROOT / "sync" / "samples"
MEMORY_LIMIT = 1 << 30
CALLS = {"create": r"/workout-service/workout$", "schedule": r"/workout-service/schedule/\d+$"}


@dataclass
class Row:
    """One line of the reliability table."""

    fault: str
    runs: str
    expected: str
    observed: str
    ok: bool

    def line(self) -> str:
        """The Markdown row."""
        result = "ok" if self.ok else "FAILED"
        return f"| {self.fault} | {self.runs} | {self.expected} | {self.observed} | {result} |"


def _athlete(settings: Settings, sb: Sandbox, name: str, *, di: bool) -> tuple[int, str]:
    """An athlete pushing workouts with its own sandbox user and an EASY verdict today and tomorrow."""
    user = f"user_{name}"
    sb.add_account(SandboxAccount(display_name=user, profile_id=10_000_000 + len(sb.accounts)))
    with session_scope(settings) as s:
        athlete = add_athlete(s, name, email=None, timezone="UTC", max_hr=188, rest_hr=48)
        athlete.push_workouts = True
        tokens = sb.issue_di_tokens(user) if di else sb.issue_garth_tokens(user)
        add_tokens(s, athlete, tokens, settings)
        today = local_today("UTC")
        for day in (today, today + timedelta(days=1)):
            record_soreness(s, athlete, day, 5)
            compute_verdict(s, athlete, day)
        return athlete.id, user


def _states(settings: Settings, athlete_id: int) -> tuple[str, list[str]]:
    with session_scope(settings) as s:
        account = s.scalars(select(GarminAccount).where(GarminAccount.athlete_id == athlete_id)).one()
        rows = s.scalars(select(PushedWorkout).where(PushedWorkout.athlete_id == athlete_id)).all()
        return account.status, sorted(r.state for r in rows)


def _legday(sb: Sandbox, user: str) -> list[dict]:
    return [w for w in sb.accounts[user].workouts.values() if w["workoutName"].startswith("legday:")]


def part_pushes(settings: Settings, sb: Sandbox, env: dict[str, str], rounds: int) -> Row:
    """Two pushes at once on a real two-child worker, `rounds` times."""
    from celery import Celery

    queue = f"legday-soak-push-{uuid.uuid4().hex[:8]}"
    env = {**env, "LEGDAY_REDIS_URL": REDIS_URL, "LEGDAY_QUEUE": queue, "LEGDAY_SYNC_QUEUE": queue + "-s"}
    env["LEGDAY_LOCK_TTL_S"] = "3"
    log = settings.data_dir / "worker.log"
    argv = [LEGDAY, "worker", "--pool", "prefork", "-c", "2", "--", "--without-gossip", "--without-mingle"]
    with open(log, "w") as out:
        worker = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=settings.data_dir)
    client = Celery("legday-soak", broker=REDIS_URL)
    held = reauth = refused = 0
    try:
        deadline = time.monotonic() + 180
        while "ready" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        sb.faults.latency_ms = 300  # both children are inside the refresh at once
        for n in range(rounds):
            athlete_id, user = _athlete(settings, sb, f"push{n}", di=True)
            sb.expire_all_tokens()
            today = local_today("UTC")
            for day in (today, today + timedelta(days=1)):
                client.send_task("worker.tasks.push_workout", args=[athlete_id, day.isoformat()], queue=queue)
            deadline = time.monotonic() + 180
            outcome = _states(settings, athlete_id)
            while time.monotonic() < deadline and outcome != ("ok", ["scheduled", "scheduled"]):
                if outcome[0] == "needs_reauth":
                    break
                time.sleep(0.3)
                outcome = _states(settings, athlete_id)
            good = outcome == ("ok", ["scheduled", "scheduled"]) and len(_legday(sb, user)) == 2
            if not good:
                print(f"round {n}: {outcome}, worker log:\n{log.read_text()[-4000:]}", file=sys.stderr)
            held += good
            reauth += outcome[0] == "needs_reauth"
        refused = sum(1 for r in sb.requests("/di-oauth2-service") if r.status != 200)
    finally:
        sb.faults.latency_ms = 0
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        client.close()
    retried = log.read_text().count("Retry in")
    return Row(
        "concurrent pushes: today's and tomorrow's at once for one DI account (rotating refresh token, "
        "access token just expired), real worker with 2 children, PostgreSQL + Redis",
        f"{rounds} rounds, {2 * rounds} pushes",
        "account stays ok, both pushes done, one workout each, no refresh refused",
        f"{held}/{rounds} rounds held; {reauth} needs_reauth; {refused} refreshes refused; "
        f"{retried} pushes found the lock busy and were retried",
        held == rounds and reauth == 0 and refused == 0,
    )


def part_lost(settings: Settings, sb: Sandbox, rounds: int, seed: int) -> Row:
    """Lost answers on create / schedule: one workout and one entry per day each time."""
    from sync.workouts.push import push_workout_now

    rng = random.Random(seed)
    kinds = ("truncate_after", "reset_after", "reset")
    held, attempts, blind = 0, 0, 0
    tried: dict[str, int] = {}
    for n in range(rounds):
        kind, call = kinds[n % 3], sorted(CALLS)[(n // 3) % 2]
        tried[f"{call}/{kind}"] = tried.get(f"{call}/{kind}", 0) + 1
        athlete_id, user = _athlete(settings, sb, f"lost{n}", di=False)
        day = local_today("UTC") + timedelta(days=rng.randint(0, 1))
        sb.faults.add(kind, CALLS[call], method="POST", account=user, times=1)
        before = len(sb.requests(CALLS[call], method="POST"))
        status = ""
        for _ in range(3):
            attempts += 1
            status = push_workout_now(athlete_id, day, settings=settings).status
            if status == "scheduled":
                break
        sent = len(sb.requests(CALLS[call], method="POST")) - before
        if kind != "reset" and sent != 1:
            blind += 1  # Garmin did it, yet the call went out again
        entries = [s for s in sb.accounts[user].schedules.values() if s["calendarDate"] == day.isoformat()]
        workouts = _legday(sb, user)
        held += (
            status == "scheduled"
            and len(workouts) == 1
            and [e["workout"]["workoutId"] for e in entries] == [workouts[0]["workoutId"]]
        )
    detail = ", ".join(f"{k} {v}" for k, v in sorted(tried.items()))
    return Row(
        "lost answers on workout calls: create or schedule done by Garmin, answer cut short "
        "(truncate_after) or reset (reset_after); or reset before it is done (reset); SQLite",
        f"{rounds} rounds ({detail}), {attempts} pushes",
        "one workout and one calendar entry for the day; a call Garmin did is never sent again",
        f"{held}/{rounds} converged on one workout and one entry; "
        f"{blind} calls re-sent after Garmin did them",
        held == rounds and blind == 0,
    )


def bombs_child(count: int, seed: int) -> None:
    """In a child limited to 1 GiB: bombs on JSON calls and a download; prints a JSON summary."""
    from sync.errors import UnsafeArchiveError
    from sync.garmin import client as garmin_client
    from sync.garmin.client import GarminClient
    from sync.garmin.errors import GarminBadResponse

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    garmin_client.garth_sso.OAUTH_CONSUMER = {}
    rng = random.Random(seed)
    sizes = (256 << 20, 1 << 30, 2 << 30, 4 << 30)
    refused = other = 0
    lines: set[str] = set()
    with Sandbox(fit_dir=SAMPLES) as sb:
        settings = Settings(
            data_dir=Path(tempfile.mkdtemp()),
            garmin_base_url=sb.url,
            garmin_min_interval_s=0.0,
            garmin_backoff_s=0.01,
            secret_key=SecretStr(Fernet.generate_key().decode()),
        )
        client = GarminClient(sb.issue_garth_tokens(), settings)
        client.profile()
        activity = sb.account.newest_first()[0].activity_id
        today = local_today("UTC")
        calls = {
            "exerciseSets": lambda: client.exercise_sets(activity),
            "hrv range": lambda: client.hrv_range(today - timedelta(days=7), today),
            "activity list": lambda: client.activities(0, 20),
            "FIT download": lambda: client.download_fit_zip(activity),
        }
        paths = {
            "exerciseSets": r"/exerciseSets$",
            "hrv range": r"/hrv-service/hrv/daily/",
            "activity list": r"/activitylist-service/",
            "FIT download": r"/download-service/files/activity/",
        }
        for n in range(count):
            name = sorted(calls)[n % len(calls)]
            fault = sb.faults.add("gzip_bomb", paths[name], times=None, decoded=rng.choice(sizes))
            try:
                calls[name]()
                other += 1
            except (GarminBadResponse, UnsafeArchiveError) as exc:
                refused += "decodes to more than" in str(exc)
                lines.add(str(exc).split(": ", 1)[-1][:80])
            except Exception:  # noqa: BLE001 - counted: anything else is a failure of the row
                other += 1
            finally:
                sb.faults.clear()
            assert fault.hits >= 1
        client.profile()  # the client is still usable afterwards
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"refused": refused, "other": other, "peak_mib": round(peak), "lines": sorted(lines)}))


def part_bombs(count: int, seed: int) -> Row:
    """Run `bombs_child` in a child process and read its summary."""
    done = subprocess.run(
        [sys.executable, __file__, "--bombs-child", str(count), "--seed", str(seed)],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    try:
        got = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        got = {"refused": 0, "other": count, "peak_mib": -1, "lines": [done.stderr[-300:]]}
    return Row(
        "compressed bodies: gzip bombs (about 1/1000 on the wire, 256 MiB-4 GiB inflated) on JSON "
        "calls (exerciseSets, HRV range, activity list) and FIT downloads, child with 1 GiB RLIMIT_AS",
        f"{count} calls",
        "each one clear refused call (GarminBadResponse / UnsafeArchiveError), no MemoryError",
        f'{got["refused"]} refused with "decodes to more than ...", {got["other"]} other outcomes; '
        f"peak RSS {got['peak_mib']} MiB",
        got["refused"] == count and got["other"] == 0 and done.returncode == 0,
    )


def main() -> int:
    """Run the three parts; 0 when every row held."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--push-rounds", type=int, default=10)
    parser.add_argument("--lost-rounds", type=int, default=48)
    parser.add_argument("--bombs", type=int, default=24)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--bombs-child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bombs_child is not None:
        bombs_child(args.bombs_child, args.seed)
        return 0
    started = time.monotonic()
    rows: list[Row] = []
    key = Fernet.generate_key().decode()
    db_name = f"legday_soak_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{db_name}"
    try:
        with tempfile.TemporaryDirectory() as tmp, Sandbox() as sb:
            upgrade(engine=engine_for(url))
            pg = Settings(
                data_dir=Path(tmp) / "pg",
                database_url=url,
                garmin_base_url=sb.url,
                garmin_min_interval_s=0.0,
                secret_key=SecretStr(key),
            )
            pg.data_dir.mkdir()
            env = {k: v for k, v in os.environ.items() if not k.startswith("LEGDAY_")}
            env.update(
                LEGDAY_DATA_DIR=str(pg.data_dir),
                LEGDAY_DATABASE_URL=url,
                LEGDAY_SECRET_KEY=key,
                LEGDAY_GARMIN_BASE_URL=sb.url,
                LEGDAY_GARMIN_MIN_INTERVAL_S="0",
                LEGDAY_LOG_LEVEL="INFO",
            )
            rows.append(part_pushes(pg, sb, env, args.push_rounds))
            lite = Settings(
                data_dir=Path(tmp) / "lite",
                garmin_base_url=sb.url,
                garmin_min_interval_s=0.0,
                garmin_backoff_s=0.01,
                secret_key=SecretStr(key),
            )
            upgrade(lite)
            rows.append(part_lost(lite, sb, args.lost_rounds, args.seed))
            engine_for(lite.sqlalchemy_url).dispose()
        rows.append(part_bombs(args.bombs, args.seed))
    finally:
        engine_for(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()
    print(f"Garmin edges soak, seed {args.seed}: {time.monotonic() - started:.0f} s")
    print("| fault / attack | runs | expected | observed | result |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(row.line())
    ok = all(r.ok for r in rows)
    print("all rows held" if ok else "SOME ROWS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
