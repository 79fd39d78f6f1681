"""`legday worker`, `legday beat` (Celery's own, with legday's app and queues) and `legday status`.

`sync` never imports `worker`: the two service commands replace this process with
`python -m celery -A worker.app ...` (exec, so signals from Docker or systemd reach Celery
directly). `--dry-run` prints the command instead, for scripts and tests.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import sys
import time
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.table import Table

from sync.cli.common import console, db_session, fail, print_table
from sync.config import Settings, get_settings
from sync.db.statuses import AccountStatus, SyncRunStatus

SYNC_THREADS = 12  # below the database pool (5 + 10 overflow): each sync holds one session
BEAT_SCHEDULER = "worker.beat:LeasedScheduler"


class Role(StrEnum):
    """What a worker process serves (docs/service.md, "Worker pools")."""

    all = "all"  # both queues, threads: a small install in one process
    sync = "sync"  # Garmin syncs: I/O-bound, many threads
    compute = "compute"  # verdicts, emails, dispatchers: CPU-bound, prefork


_EXTRA = {"allow_extra_args": True, "ignore_unknown_options": True}


def _celery(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "worker.app", *args]


def worker_argv(
    settings: Settings,
    role: Role,
    concurrency: int | None,
    loglevel: str,
    extra: list[str],
    pool: str | None = None,
) -> list[str]:
    """The Celery worker command line of a role."""
    if role is Role.compute:
        queues, role_pool, default = [settings.queue], "prefork", os.cpu_count() or 1
    elif role is Role.sync:
        queues, role_pool, default = [settings.sync_queue], "threads", SYNC_THREADS
    else:
        queues, role_pool, default = [settings.queue, settings.sync_queue], "threads", SYNC_THREADS
    args = ["worker", "-Q", ",".join(queues), "-P", pool or role_pool, "-c", str(concurrency or default)]
    if not _names_node(extra):
        # Celery's default node name is celery@host for every worker: two roles on one host would
        # share it (a ping is answered by either, Flower shows one). Each role gets its own.
        args += ["-n", node_name(role)]
    return _celery([*args, f"--loglevel={loglevel}", *extra])


def node_name(role: Role) -> str:
    """The default Celery node name of a role's worker (`%h` is the host name)."""
    return f"{'worker' if role is Role.all else role.value}@%h"


def _names_node(extra: list[str]) -> bool:
    """Whether the operator's own Celery options already give a node name."""
    return any(a in ("-n", "--hostname") or a.startswith(("--hostname=", "-n")) for a in extra)


def beat_argv(settings: Settings, loglevel: str, extra: list[str]) -> list[str]:
    """The Celery beat command line: the leased scheduler, its state file in the data dir.

    One state file per host: beats on several hosts may share the data dir (compose's volume),
    and a shelve file must have one writer.
    """
    schedule = settings.data_dir / "beat" / f"schedule-{socket.gethostname()}"
    args = ["beat", "--scheduler", BEAT_SCHEDULER, f"--schedule={schedule}"]
    args.append(f"--max-interval={max(1, int(settings.beat_lease_s / 3))}")
    return _celery([*args, f"--loglevel={loglevel}", *extra])


def _exec(argv: list[str], settings: Settings, dry_run: bool) -> None:
    if dry_run:
        console.print(shlex.join(argv), soft_wrap=True, markup=False, highlight=False)
        return
    if not settings.redis_url:
        raise fail("workers and beat need a broker: set LEGDAY_REDIS_URL (docs/service.md)", 2)
    (settings.data_dir / "beat").mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    os.execv(argv[0], argv)


def worker_command(
    ctx: typer.Context,
    role: Annotated[
        Role, typer.Option(help="sync: Garmin (threads); compute: prefork; all: both.")
    ] = Role.all,
    concurrency: Annotated[int | None, typer.Option("--concurrency", "-c", help="Threads/processes.")] = None,
    pool: Annotated[str | None, typer.Option(help="Override the role's pool (threads, prefork...).")] = None,
    loglevel: Annotated[str, typer.Option(help="Celery's log level.")] = "INFO",
    dry_run: Annotated[bool, typer.Option(help="Print the Celery command instead of running it.")] = False,
    check: Annotated[
        bool,
        typer.Option("--check", help="Health check: exit 1 unless this host's worker of the role is alive."),
    ] = False,
) -> None:
    """Run a Celery worker on legday's queues (extra options go to `celery worker`)."""
    settings = get_settings()
    if check:
        raise typer.Exit(
            0 if worker_alive(settings, node_name(role).replace("%h", socket.gethostname())) else 1
        )
    argv = worker_argv(settings, role, concurrency, loglevel, list(ctx.args), pool)
    _exec(argv, settings, dry_run)


def beat_command(
    ctx: typer.Context,
    loglevel: Annotated[str, typer.Option(help="Celery's log level.")] = "INFO",
    dry_run: Annotated[bool, typer.Option(help="Print the Celery command instead of running it.")] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Health check: exit 1 unless this host's beat ticked lately.")
    ] = False,
) -> None:
    """Run Celery beat; several may run, only the holder of the Redis lease schedules."""
    settings = get_settings()
    if check:
        raise typer.Exit(0 if beat_alive(settings) else 1)
    _exec(beat_argv(settings, loglevel, list(ctx.args)), settings, dry_run)


WORKER_ALIVE_S = 60.0  # a worker marks itself alive every 10 s: six missed marks mean it is gone


def worker_alive(settings: Settings, node: str, now: float | None = None) -> bool:
    """Whether the worker node `node` (e.g. `sync@host`) marked itself alive within the last minute."""
    from sync.locks import worker_heartbeat_file

    try:
        age = (now or time.time()) - worker_heartbeat_file(settings, node).stat().st_mtime
    except FileNotFoundError:
        return False
    return age < WORKER_ALIVE_S


def beat_alive(settings: Settings, now: float | None = None) -> bool:
    """Whether this host's beat (leader or standby) ticked within the last minute (or lease)."""
    from sync.locks import beat_heartbeat_file

    path = beat_heartbeat_file(settings)
    try:
        age = (now or time.time()) - path.stat().st_mtime
    except FileNotFoundError:
        return False
    return age <= max(60.0, settings.beat_lease_s)


def _last_runs(session: Any, *kinds: str) -> dict[int, datetime]:
    """Per athlete, when the last fully successful run of these kinds started."""
    from sqlalchemy import func, select

    from sync.db.models import SyncRun

    rows = session.execute(
        select(SyncRun.athlete_id, func.max(SyncRun.started_at))
        .where(SyncRun.kind.in_(kinds), SyncRun.status == SyncRunStatus.OK)
        .group_by(SyncRun.athlete_id)
    )
    return {athlete_id: moment for athlete_id, moment in rows}


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def status_rows(session: Any, settings: Settings, now: datetime) -> list[dict[str, Any]]:
    """One dict per Garmin account: last success, next due, rate-limit wait, re-auth need."""
    from sqlalchemy import select

    from sync.credential_end import days_left
    from sync.db.models import Athlete, GarminAccount
    from sync.garmin_sync.due import next_due

    any_ok = _last_runs(session, "sync", "check", "backfill")
    full_ok = _last_runs(session, "sync", "backfill")
    query = select(GarminAccount, Athlete).join(Athlete, Athlete.id == GarminAccount.athlete_id)
    out: list[dict[str, Any]] = []
    for account, who in session.execute(query.order_by(Athlete.name)):
        last_ok = _aware(any_ok.get(who.id))
        last_full = _aware(full_ok.get(who.id))
        until = _aware(account.rate_limited_until)
        wait = max(0.0, (until - now).total_seconds()) if until else 0.0
        reauth = account.status == AccountStatus.NEEDS_REAUTH
        due = None
        if not reauth:
            due = next_due(
                _aware(account.last_sync_at), last_full, now, who.timezone, who.send_time, settings
            )
            if until and until > due:
                due = until
        out.append(
            {
                "athlete": who.name,
                "account_id": account.id,
                "status": account.status,
                "last_success": last_ok.isoformat() if last_ok else None,
                "last_wellness": last_full.isoformat() if last_full else None,
                "next_due": due.isoformat() if due else None,
                "rate_limit_wait_s": round(wait),
                "needs_reauth": reauth,
                "credential_kind": account.token_kind,
                "credential_ends_at": _aware(account.credential_ends_at).isoformat()
                if account.credential_ends_at
                else None,
                "credential_days_left": days_left(account.credential_ends_at, who.timezone, now)
                if account.credential_ends_at
                else None,
            }
        )
    return out


def status_command(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per account, as a list.")] = False,
) -> None:
    """Every Garmin account: last successful sync, next due, rate-limit wait, re-auth needed."""
    now = datetime.now(UTC)
    with db_session() as (session, settings):
        rows = status_rows(session, settings, now)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(
        "athlete",
        "status",
        "last success (UTC)",
        "last wellness (UTC)",
        "next due (UTC)",
        "rate-limit wait",
        "re-auth",
        "credential ends",
    )

    def short(value: str | None) -> str:
        return value[:16].replace("T", " ") if value else "never"

    for row in rows:
        wait = row["rate_limit_wait_s"]
        table.add_row(
            row["athlete"],
            row["status"],
            short(row["last_success"]),
            short(row["last_wellness"]),
            short(row["next_due"]) if row["next_due"] else "-",
            f"{wait // 60} min" if wait else "",
            "yes: legday athlete invite" if row["needs_reauth"] else "",
            _ends_cell(row),
        )
    print_table(table)
    if not rows:
        console.print("no Garmin account yet: `legday garmin add-tokens --athlete NAME ...`")


def _ends_cell(row: dict[str, Any]) -> str:
    """`2027-01-05 (personal_api, 7 days)`; a warning mark inside the 14-day window."""
    if row["credential_ends_at"] is None:
        return "unknown"
    left = row["credential_days_left"]
    mark = "!" if left is not None and left <= 14 else ""
    return f"{mark}{row['credential_ends_at'][:10]} ({row['credential_kind']}, {left} days)"


def register(app: typer.Typer) -> None:
    """Add the service commands to `legday`."""
    app.command("worker", context_settings=_EXTRA)(worker_command)
    app.command("beat", context_settings=_EXTRA)(beat_command)
    app.command("status")(status_command)
