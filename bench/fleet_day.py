"""`bench_fleet.py --day`: a whole simulated day of a fleet, and the dispatch tick at 1k-100k accounts.

The day: N athletes in several time zones, each a Garmin user of the local sandbox (HTTP on
loopback) with generated wellness nights, one activity every afternoon or evening (a run or a
strength session) and for a third of them a second one in the morning, each appearing in the
sandbox when it ends. The clock is simulated (time-machine moves `datetime.now` and `time.time`
for everything in this process, the sandbox included) one beat tick at a time, and every beat
entry of `worker.schedule.beat_schedule()` runs when due, as beat would send it, with the
worker's tasks run in this process (Celery's eager mode: no broker), on a fresh PostgreSQL
database. A warm-up day brings every account to steady state; the second day is measured.

Measured for that day: CPU seconds of this process's main thread (the dispatchers and every
task; the sandbox serves on threads of its own and is not counted), Garmin requests by kind
against the minimum the day's data needs, verdict computations (verdict rows written), emails,
PostgreSQL transactions and row writes (pg_stat_database, pg_stat_user_tables deltas), all per
athlete-day. Redis: the tasks run eagerly, so the broker's peak is the most messages one tick
queued times the bytes one message takes in Redis (measured there), plus the dispatcher's own
Redis keys at their peak (main's DueMarks) at their measured size.

The tick: accounts and athletes seeded directly (one multi-row INSERT per batch) at 1k, 10k and
100k, one push channel each, nothing due; CPU of one tick of each dispatcher (their queueing
calls count instead of queueing). Then the email dispatcher with every one of the 100k due.

The same file runs against an older checkout (the "before" of a change): it uses only what
both have, and says what it could not measure.
"""

from __future__ import annotations

import inspect
import os
import resource
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from garmin_requests import request_kind  # noqa: E402 - beside this script

ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "America/Los_Angeles")
DAY = date(2026, 3, 10)  # the measured day (UTC); the warm-up is the day before
WELLNESS_CALLS = 5  # HRV, resting HR, body battery (ranges) + sleep, readiness (per day)


def thread_cpu() -> float:
    """CPU seconds of the calling thread (the sandbox's server threads are not in it)."""
    usage = resource.getrusage(resource.RUSAGE_THREAD)
    return usage.ru_utime + usage.ru_stime


def _env(db_url: str, data_dir: str, key: str, garmin_url: str | None) -> None:
    for name in [k for k in os.environ if k.startswith("LEGDAY_")]:
        del os.environ[name]
    os.environ.update(
        LEGDAY_DATABASE_URL=db_url,
        LEGDAY_DATA_DIR=data_dir,
        LEGDAY_SECRET_KEY=key,
        LEGDAY_GARMIN_MIN_INTERVAL_S="0",
        LEGDAY_GARMIN_INITIAL_DAYS="3",
        LEGDAY_LOG_LEVEL="WARNING",
        LEGDAY_MAIL_FROM="legday <legday@example.org>",
    )
    if garmin_url:
        os.environ["LEGDAY_GARMIN_BASE_URL"] = garmin_url


def _pg_counters(engine: Any, db_name: str) -> tuple[int, int]:
    """(transactions, row writes) of the database so far."""
    from sqlalchemy import text

    with engine.connect() as conn:
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        xact = conn.execute(
            text("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = :d"),
            {"d": db_name},
        ).scalar_one()
        writes = conn.execute(
            text("SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables")
        ).scalar_one()
    return int(xact), int(writes)


def _table_writes(engine: Any, table: str) -> int:
    from sqlalchemy import text

    with engine.connect() as conn:
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        return int(
            conn.execute(
                text(
                    "SELECT coalesce(sum(n_tup_ins + n_tup_upd), 0) FROM pg_stat_user_tables"
                    " WHERE relname = :t"
                ),
                {"t": table},
            ).scalar_one()
        )


def _outbox_count(settings: Any) -> int:
    return len(list(Path(settings.data_dir).rglob("*.eml")))


class _Plan:
    """Who does what when: each athlete's zone and the activities that appear during the days."""

    def __init__(self, sandbox: Any, n: int) -> None:
        from sync.sandbox.seed import load_fit_folder, place

        sources = load_fit_folder(ROOT / "sync" / "samples")
        runs = [s for s in sources if s.type[0] != "strength_training"]
        strength = [s for s in sources if s.type[0] == "strength_training"]
        self.pending: list[tuple[datetime, str, Any]] = []  # (appears at, account, activity)
        self.minimum: Counter[str] = Counter()  # of the measured day
        self.zones: dict[str, str] = {}
        self.strength: dict[int, bool] = {}  # activity id -> a strength session
        next_id = 40_000_000_000
        for i in range(n):
            zone = ZONES[i % len(ZONES)]
            name = f"day{i:05d}"
            for day in (DAY - timedelta(days=1), DAY):
                picks = [(strength[i % len(strength)] if i % 2 else runs[i % len(runs)], dtime(19, 0))]
                if i % 3 == 0:
                    picks.append((runs[(i + 1) % len(runs)], dtime(8, 30)))
                for src, local in picks:
                    activity = place(src, day, next_id)
                    next_id += 1
                    appears = datetime.combine(day, local, tzinfo=_zone(zone)).astimezone(UTC)
                    self.pending.append((appears, name, activity))
            self.zones[name] = zone
        self.pending.sort(key=lambda p: p[0])
        self.sandbox = sandbox

    def reveal(self, now: datetime, measured_from: datetime) -> None:
        """Put the activities that ended by `now` into their sandbox accounts."""
        while self.pending and self.pending[0][0] <= now:
            appears, name, activity = self.pending.pop(0)
            self.sandbox.accounts[name].activities.append(activity)
            self.strength[activity.activity_id] = activity.type_key == "strength_training"


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _accepts_now(task: Any) -> bool:
    return "now" in inspect.signature(task.run).parameters


def run_day(n: int, pg_admin: str, redis_url: str | None) -> dict[str, Any]:
    """Seed N athletes, simulate the warm-up day and the measured day; return the figures."""
    import time_machine
    from cryptography.fernet import Fernet
    from sqlalchemy import create_engine, text

    db_name = f"legday_day_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_admin, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    db_url = pg_admin.rsplit("/", 1)[0] + f"/{db_name}"
    out: dict[str, Any] = {"n": n}
    start = datetime.combine(DAY - timedelta(days=1), dtime(0, 0), tzinfo=UTC)
    measured_from = start + timedelta(days=1)
    try:
        with tempfile.TemporaryDirectory() as tmp, time_machine.travel(start, tick=False) as traveller:
            from sync.sandbox import Sandbox, SandboxAccount
            from sync.sandbox.seed import WellnessGenerator

            with Sandbox(fit_dir=None) as sandbox:
                key = Fernet.generate_key().decode()
                _env(db_url, tmp, key, sandbox.url)
                from sync.athletes import add_athlete
                from sync.config import get_settings
                from sync.db.migrate import upgrade
                from sync.db.session import engine_for, session_scope
                from sync.garmin_sync.accounts import add_tokens

                get_settings.cache_clear()
                settings = get_settings()
                upgrade(settings)
                plan = _Plan(sandbox, n)
                with session_scope(settings) as s:
                    for name, zone in plan.zones.items():
                        sandbox.add_account(
                            SandboxAccount(
                                display_name=name,
                                profile_id=60_000_000 + len(sandbox.accounts),
                                timezone=zone,
                                wellness=WellnessGenerator(len(sandbox.accounts), DAY - timedelta(days=90)),
                            )
                        )
                        athlete = add_athlete(
                            s, name, email=f"{name}@example.org", timezone=zone, max_hr=190, rest_hr=50
                        )
                        account = add_tokens(
                            s, athlete, sandbox.issue_garth_tokens(name), settings, verify=False
                        )
                        account.display_name = name
                _simulate(
                    traveller, plan, sandbox, settings, start, measured_from, engine_for(db_url), db_name, out
                )
                engine_for(db_url).dispose()
    finally:
        from sync.db.session import dispose_engines

        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()
    if redis_url:
        out["message_bytes"] = _message_bytes(redis_url)
    return out


def _simulate(
    traveller: Any,
    plan: _Plan,
    sandbox: Any,
    settings: Any,
    start: datetime,
    measured_from: datetime,
    engine: Any,
    db_name: str,
    out: dict[str, Any],
) -> None:
    """Tick through both days; measure the second."""
    import logging

    from worker import tasks
    from worker.schedule import beat_schedule

    logging.getLogger().setLevel(logging.WARNING)
    assert tasks.app.conf.task_always_eager, "the day runs its tasks in this process"
    schedule = {
        name: (entry["task"].rsplit(".", 1)[1], float(entry["schedule"]))
        for name, entry in beat_schedule().items()
    }
    next_run = {name: start for name in schedule}
    queued_in_tick = Counter[str]()
    originals = {}
    for task_name in ("sync_account", "compute_verdict", "send_daily_email", "push_workout"):
        task = getattr(tasks, task_name)
        originals[task_name] = (task.delay, task.apply_async)

        def counting(*args: Any, _name: str = task_name, _orig: Any = task.apply_async, **kwargs: Any) -> Any:
            queued_in_tick[_name] += 1
            return _orig(*args, **kwargs)

        task.apply_async = counting  # type: ignore[method-assign]  # `delay` calls it too
    marks_peak = 0
    due_module = sys.modules.get("sync.garmin_sync.due")
    if due_module is not None and hasattr(due_module, "DueMarks"):
        due_module.clock = type(
            "SimClock", (), {"monotonic": staticmethod(time.time)}
        )  # main's marks age in sim time
    tick = 60.0
    end = measured_from + timedelta(days=1)
    now = start
    measuring = False
    peak_tick_messages = 0
    ticks = Counter[str]()
    cpu0 = xact0 = writes0 = verdicts0 = excluded = idle_cpu = 0.0
    outbox0 = 0
    idle_ticks = 0
    failures = Counter[str]()
    while now < end:
        if not measuring and now >= measured_from:
            measuring = True
            if os.environ.get("BENCH_SHOW_PATHS"):
                for r in sandbox.log:
                    print(
                        "warm-up",
                        datetime.fromtimestamp(r.at, UTC).strftime("%d %H:%M"),
                        r.path.split("?")[0],
                    )
            sandbox.clear_log()
            xact0, writes0 = _pg_counters(engine, db_name)
            outbox0 = _outbox_count(settings)
            verdicts0 = _table_writes(engine, "verdict")
            cpu0 = thread_cpu()
        traveller.move_to(now)
        plan.reveal(now, measured_from)
        for name, (task_name, every) in schedule.items():
            if next_run[name] > now:
                continue
            next_run[name] = now + timedelta(seconds=every)
            task = getattr(tasks, task_name)
            queued_in_tick.clear()
            run0 = thread_cpu()
            try:
                task.apply(kwargs={"now": now.isoformat()} if _accepts_now(task) else {}).get()
            except Exception as exc:  # noqa: BLE001 - counted and shown, the day goes on
                failures[f"{task_name}: {type(exc).__name__}"] += 1
            if measuring:
                ticks[task_name] += 1
                peak_tick_messages = max(peak_tick_messages, sum(queued_in_tick.values()))
                if not queued_in_tick:  # a tick that found nothing due: the fleet's fixed cost
                    idle_cpu += thread_cpu() - run0
                    idle_ticks += 1
        if measuring and due_module is not None and hasattr(due_module, "DueMarks") and now.minute == 0:
            counting0 = thread_cpu()  # the bench's own counting is not the dispatcher's cost
            marks = getattr(tasks, "_marks", {})
            live = sum(1 for m in marks.values() for exp in m._local.values() if exp > time.time())
            marks_peak = max(marks_peak, live)
            excluded += thread_cpu() - counting0
        now += timedelta(seconds=tick)
    cpu = thread_cpu() - cpu0 - excluded
    time.sleep(1.5)  # PostgreSQL's statistics reach its views about a second after a transaction
    xact1, writes1 = _pg_counters(engine, db_name)
    verdicts1 = _table_writes(engine, "verdict")
    seen = Counter(request_kind(r.path) for r in sandbox.log)
    out["emails"] = _outbox_count(settings) - outbox0
    from sqlalchemy import text

    with engine.connect() as conn:
        out["deliveries"] = dict(
            Counter(f"{k}:{st}" for k, st in conn.execute(text("SELECT kind, status FROM email_delivery")))
        )
    if os.environ.get("BENCH_SHOW_PATHS"):
        for (path, at), count in sorted(
            Counter((r.path.split("?")[0], r.at) for r in sandbox.log).items(), key=lambda x: x[0][1]
        )[:400]:
            print(datetime.fromtimestamp(at, UTC).strftime("%H:%M"), path, count)
    n = out["n"]
    # The minimum the day's data needs: each athlete's morning (one list, five wellness calls),
    # and for each activity synced that day (each downloaded once) its download, its exercise
    # sets if a strength session, and one list call to see it the day it happened (it appears
    # after the morning's sync). The stricter minimum, one list call a day, is reported too.
    synced = {int(r.path.rsplit("/", 1)[1]) for r in sandbox.log if request_kind(r.path) == "download"}
    minimum = {
        "list": n + len(synced),
        "wellness": WELLNESS_CALLS * n,
        "download": len(synced),
        "exercise sets": sum(1 for a in synced if plan.strength.get(a)),
    }
    out.update(
        cpu_per_athlete_day=cpu / n,
        idle_tick_cpu=idle_cpu,
        idle_ticks=idle_ticks,
        requests=dict(seen),
        minimum=minimum,
        requests_per_athlete_day=sum(seen.values()) / n,
        minimum_per_athlete_day=sum(minimum.values()) / n,
        verdicts_per_athlete_day=(verdicts1 - verdicts0) / n,
        xact_per_athlete_day=(xact1 - xact0) / n,
        row_writes_per_athlete_day=(writes1 - writes0) / n,
        peak_tick_messages=peak_tick_messages,
        marks_peak=marks_peak,
        ticks=dict(ticks),
        failures=dict(failures),
        one_list_minimum_per_athlete_day=(sum(minimum.values()) - minimum["list"] + n) / n,
    )
    for task_name, (delay, apply_async) in originals.items():
        task = getattr(tasks, task_name)
        task.delay, task.apply_async = delay, apply_async  # type: ignore[method-assign]


def _message_bytes(redis_url: str) -> dict[str, float]:
    """Bytes one queued task message and one dispatcher mark take in Redis (measured there)."""
    import redis
    from celery import Celery

    client = redis.Redis.from_url(redis_url)
    app = Celery("bench-bytes", broker=redis_url)
    queue = f"bench-bytes-{uuid.uuid4().hex[:6]}"
    k = 200
    for i in range(k):
        app.send_task(
            "worker.tasks.sync_account",
            args=[100_000 + i, False, "2026-03-10T12:00:00+00:00"],
            queue=queue,
            expires=900,
        )
    per_message = (client.memory_usage(queue) or 0) / k
    client.delete(queue)
    mark_key = "legday:due:0123abcd:check:100000"
    client.set(mark_key, b"1", ex=3600)
    per_mark = float(client.memory_usage(mark_key) or 0)
    client.delete(mark_key)
    app.close()
    client.close()
    return {"message": per_message, "mark": per_mark}


# -- the dispatch tick at 1k, 10k, 100k accounts -----------------------------------------------


def tick_costs(sizes: list[int], pg_admin: str) -> list[dict[str, Any]]:
    """CPU of one tick of each dispatcher with nothing due, at each size; then every email due."""
    from cryptography.fernet import Fernet
    from sqlalchemy import create_engine, text

    db_name = f"legday_tick_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_admin, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    db_url = pg_admin.rsplit("/", 1)[0] + f"/{db_name}"
    results: list[dict[str, Any]] = []
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            _env(db_url, tmp, Fernet.generate_key().decode(), None)
            from sync.config import get_settings
            from sync.db.migrate import upgrade
            from sync.db.session import engine_for

            get_settings.cache_clear()
            settings = get_settings()
            upgrade(settings)
            from worker import tasks

            counted = Counter[str]()
            for task_name in ("sync_account", "compute_verdict", "send_daily_email", "send_pushes"):
                task = getattr(tasks, task_name)

                def count(*_a: Any, _name: str = task_name, **_k: Any) -> None:
                    counted[_name] += 1

                task.delay = count  # type: ignore[method-assign]
                task.apply_async = count  # type: ignore[method-assign]
            seeded = 0
            engine = engine_for(db_url)
            for size in sizes:
                _seed_fleet(engine, seeded, size, now)
                seeded = size
                row: dict[str, Any] = {"accounts": size}
                dispatchers = ("dispatch_syncs", "dispatch_verdicts", "dispatch_emails", "dispatch_pushes")
                for task_name in dispatchers:
                    task = getattr(tasks, task_name)
                    kwargs = {"now": now.isoformat()} if _accepts_now(task) else {}
                    if task_name == "dispatch_syncs":
                        task.apply(kwargs=kwargs).get()  # main's marks: the first tick claims them
                    counted.clear()
                    cpu0, wall0 = thread_cpu(), time.monotonic()
                    try:
                        task.apply(kwargs=kwargs).get()
                        row[task_name] = (
                            thread_cpu() - cpu0,
                            time.monotonic() - wall0,
                            sum(counted.values()),
                        )
                    except Exception as exc:  # noqa: BLE001 - reported, not hidden
                        row[task_name] = f"fails: {type(exc).__name__}"
                results.append(row)
            # Every email of the largest fleet due at once (a morning in one time zone).
            with engine.begin() as conn:
                conn.execute(text("UPDATE athlete SET send_time = '06:30:00'"))
                if "next_send_at" in _columns(engine, "athlete"):
                    conn.execute(
                        text("UPDATE athlete SET next_send_at = :t"), {"t": now - timedelta(minutes=5)}
                    )
            counted.clear()
            cpu0, wall0 = thread_cpu(), time.monotonic()
            try:
                tasks.dispatch_emails.apply(kwargs={"now": now.isoformat()}).get()
                results.append(
                    {
                        "all_due_emails": (
                            thread_cpu() - cpu0,
                            time.monotonic() - wall0,
                            counted["send_daily_email"],
                        )
                    }
                )
            except Exception as exc:  # noqa: BLE001 - the failure is the finding
                results.append(
                    {"all_due_emails": f"fails: {type(exc).__name__}: {str(exc).splitlines()[0][:90]}"}
                )
            engine.dispose()
    finally:
        from sync.db.session import dispose_engines

        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()
    return results


def _columns(engine: Any, table: str) -> set[str]:
    from sqlalchemy import inspect as sa_inspect

    return {c["name"] for c in sa_inspect(engine).get_columns(table)}


def _seed_fleet(engine: Any, start: int, stop: int, now: datetime) -> None:
    """Athletes, accounts and push channels [start, stop), inserted directly, nothing due at `now`."""
    from sqlalchemy import insert
    from sqlalchemy import inspect as sa_inspect

    from sync.db.models import Athlete, GarminAccount

    athlete_cols, account_cols = _columns(engine, "athlete"), _columns(engine, "garmin_account")
    has_channels = sa_inspect(engine).has_table("notify_channel")
    channel_cols = _columns(engine, "notify_channel") if has_channels else set()
    later = now + timedelta(hours=1)
    batch = 10_000
    with engine.begin() as conn:
        for lo in range(start, stop, batch):
            hi = min(stop, lo + batch)
            athletes = []
            for i in range(lo, hi):
                row = {
                    "id": i + 1,
                    "name": f"t{i:07d}",
                    "email": f"t{i:07d}@example.org",
                    "timezone": ZONES[i % len(ZONES)],
                    "send_time": dtime(23, 59),  # not due at noon UTC in any of the zones... mostly
                    "sex": "male",
                    "thresholds": {},
                    "email_enabled": True,
                    "push_workouts": False,
                    "link_generation": 0,
                    "created_at": now,
                }
                for col in ("next_send_at", "next_rollover_at"):
                    if col in athlete_cols:
                        row[col] = later
                athletes.append(row)
            conn.execute(
                insert(Athlete.__table__).values(),
                [{k: v for k, v in r.items() if k in athlete_cols} for r in athletes],
            )
            accounts = []
            for i in range(lo, hi):
                row = {
                    "id": i + 1,
                    "athlete_id": i + 1,
                    "token_kind": "garth",
                    "tokens_encrypted": b"x",
                    "status": "ok",
                    "backoff_s": 0.0,
                    "last_sync_at": now - timedelta(minutes=1),
                }
                for col in ("next_sync_at", "next_wellness_at"):
                    if col in account_cols:
                        row[col] = later
                accounts.append(row)
            conn.execute(
                insert(GarminAccount.__table__).values(),
                [{k: v for k, v in r.items() if k in account_cols} for r in accounts],
            )
            # One push channel per athlete, not due either (its ciphertext is never read).
            if channel_cols:
                from sync.db.models import NotifyChannel

                channels = [
                    {
                        "id": i + 1,
                        "athlete_id": i + 1,
                        "url_encrypted": b"x",
                        "status": "active",
                        "created_at": now,
                        "next_push_at": later,
                    }
                    for i in range(lo, hi)
                ]
                conn.execute(
                    insert(NotifyChannel.__table__).values(),
                    [{k: v for k, v in r.items() if k in channel_cols} for r in channels],
                )
        if engine.dialect.name == "postgresql":
            from sqlalchemy import text

            tables = ["athlete", "garmin_account"] + (["notify_channel"] if channel_cols else [])
            for table in tables:
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {stop})"))
                conn.execute(text(f"ANALYZE {table}"))


def report(day: dict[str, Any] | None, ticks: list[dict[str, Any]] | None) -> str:
    """The figures as printed lines."""
    lines: list[str] = []
    if day:
        n = day["n"]
        lines.append(f"day: {n} athletes in {len(ZONES)} time zones, warm-up day then one measured day")
        cpu = day["cpu_per_athlete_day"]
        idle = day.get("idle_tick_cpu", 0.0)
        lines.append(
            f"  CPU s per athlete-day (dispatchers + tasks, this process): {cpu:.3f}; of which the "
            f"{day.get('idle_ticks', 0)} ticks that found nothing due: {idle:.1f} CPU-s for the whole "
            f"fleet ({idle / n:.3f} per athlete here); without them {cpu - idle / n:.3f}"
        )
        data = {k: v for k, v in day["requests"].items() if k != "other"}
        total, least = sum(data.values()) / n, day["minimum_per_athlete_day"]
        lines.append(
            f"  Garmin data requests per athlete-day: {total:.2f} vs minimum {least:.2f} "
            f"(ratio {total / least:.2f}); with the credential's own calls (token refresh): "
            f"{day['requests_per_athlete_day']:.2f}"
        )
        for kind in sorted(set(day["requests"]) | set(day["minimum"])):
            seen, need = day["requests"].get(kind, 0) / n, day["minimum"].get(kind, 0) / n
            lines.append(f"    {kind:14s} {seen:6.2f} vs {need:6.2f}")
        strict = day["one_list_minimum_per_athlete_day"]
        lines.append(
            f"    (against the stricter minimum of one list call a day, {strict:.2f}: "
            f"ratio {total / strict:.2f})"
        )
        lines.append(f"  verdict rows written per athlete-day: {day['verdicts_per_athlete_day']:.2f}")
        if day.get("failures"):
            lines.append(f"  dispatcher runs that raised: {day['failures']}")
        lines.append(
            f"  emails sent that day: {day.get('emails')}; rows of both days: {day.get('deliveries')}"
        )
        lines.append(
            f"  PostgreSQL per athlete-day: {day['xact_per_athlete_day']:.1f} transactions, "
            f"{day['row_writes_per_athlete_day']:.1f} row writes"
        )
        sizes = day.get("message_bytes")
        if sizes:
            peak = day["peak_tick_messages"] * sizes["message"] + day["marks_peak"] * sizes["mark"]
            lines.append(
                f"  Redis peak: {peak / 1024:.0f} KiB = {day['peak_tick_messages']} messages of one tick x "
                f"{sizes['message']:.0f} B + {day['marks_peak']} dispatcher marks x {sizes['mark']:.0f} B "
                f"({peak / n:.0f} B per athlete)"
            )
        lines.append(f"  beat ticks run: {day['ticks']}")
    for row in ticks or []:
        if "all_due_emails" in row:
            lines.append(f"  every email of the largest fleet due at once: {_fmt(row['all_due_emails'])}")
            continue
        parts = ", ".join(
            f"{k.removeprefix('dispatch_')} {_fmt(v)}" for k, v in row.items() if k != "accounts"
        )
        lines.append(f"tick at {row['accounts']:>7,} accounts, nothing due: {parts}")
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, tuple):
        cpu, wall, queued = value
        return f"{cpu:.3f} CPU-s ({wall:.2f} s wall, {queued} queued)"
    return str(value)
