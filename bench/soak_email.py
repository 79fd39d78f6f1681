"""Soak: the daily email's ambiguous SMTP endings and database connections cut mid-dispatch (issue 18).

Part 1, on SQLite and PostgreSQL: each round gives every athlete one SMTP ending at random (a
clean 250; QUIT answered 421, or not at all, after the 250; the final 250 past the client's
1.5 s timeout; the connection cut after the dot; a 451 to the message, then accepted; a 554 to
the message), then runs the morning's ticks. Checks: nobody gets two emails, everyone whose
message reached the server has exactly one, and each row ends as docs/email.md promises.

Part 2, on PostgreSQL: each round dispatches a fleet's morning while a thread terminates every
backend of the database (pg_terminate_backend) every 20-150 ms, for two ticks; then the later
ticks run undisturbed. Checks: no athlete gets two emails, none is lost, none is `failed`, none
is left `claimed` or `sending`.

    .venv/bin/python bench/soak_email.py [--athletes 24] [--rounds 4] [--seed 18]

PostgreSQL at LEGDAY_BENCH_PG_ADMIN (scratch databases are created and dropped); the emails go
to an aiosmtpd server on a free loopback port. Prints the table of docs/reliability.md and
exits 1 when a check failed.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import create_engine, select, text  # noqa: E402

from sync.athletes import add_athlete  # noqa: E402
from sync.config import Settings  # noqa: E402
from sync.db.migrate import upgrade  # noqa: E402
from sync.db.models import EmailDelivery  # noqa: E402
from sync.db.session import engine_for, session_scope  # noqa: E402
from sync.morning_email import dispatch_due_emails  # noqa: E402
from testkit.smtp_server import SmtpRecorder, free_port  # noqa: E402

PG_ADMIN = os.environ.get("LEGDAY_BENCH_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)  # past 06:30 for athletes in UTC
# The morning's ticks: the first, past one retry backoff (300 s), past the claim timeout
# (15 min), past a doubled backoff, and a last one.
TICKS = [NOW + timedelta(seconds=s) for s in (0, 301, 16 * 60, 40 * 60, 90 * 60)]

# ending -> (plan for the SMTP server, messages the athlete must end with, status, note in error)
ENDINGS: dict[str, tuple[list[str], int, str, str | None]] = {
    "250": (["ok"], 1, "sent", None),
    "250, then QUIT answered 421": (["quit421"], 1, "sent", "421"),
    "250, then QUIT unanswered": (["quitdrop"], 1, "sent", None),
    "250 after the client's timeout": (["late"], 1, "unconfirmed", "no reply"),
    "connection cut after the dot": (["drop"], 1, "unconfirmed", "no reply"),
    "451 to the message, then 250": (["451 4.3.0 Try again later", "ok"], 1, "sent", None),
    "554 to the message": (["554 5.6.0 Message refused"], 0, "failed", "554"),
}


@dataclass
class Tally:
    """What one part saw."""

    athletes: int = 0
    doubled: int = 0
    lost: int = 0
    wrong_status: int = 0
    problems: list[str] = field(default_factory=list)
    by_ending: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)


class LogCount(logging.Handler):
    """Counts the dispatcher's warnings and errors by their first words (nothing printed)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "dispatch of this athlete stopped" in message:
            self.counts["athletes stopped before or at the claim (next tick)"] += 1
        elif "composing" in message and "the database failed" in message:
            self.counts["composes deferred (database)"] += 1
        elif "could not write the delivery row" in message:
            self.counts["row writes given up"] += 1


def _settings(data_dir: Path, url: str | None, smtp_port: int, timeout_s: float = 1.5) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=url,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_security="none",
        smtp_timeout_s=timeout_s,
        mail_from="legday <legday@example.org>",
        redis_url=None,
    )


def _add_athletes(settings: Settings, prefix: str, n: int) -> list[str]:
    names = [f"{prefix}{i:03d}" for i in range(n)]
    with session_scope(settings) as s:
        for name in names:
            add_athlete(s, name, email=f"{name}@example.org", timezone="UTC", max_hr=190, rest_hr=50)
    return names


def _rows(settings: Settings) -> dict[str, EmailDelivery]:
    from sync.db.models import Athlete

    with session_scope(settings) as s:
        return {
            name: row
            for row, name in s.execute(
                select(EmailDelivery, Athlete.name).join(Athlete, Athlete.id == EmailDelivery.athlete_id)
            )
        }


def _clear(settings: Settings) -> None:
    with session_scope(settings) as s:
        s.execute(text("DELETE FROM email_delivery"))
        s.execute(text("DELETE FROM verdict"))
        s.execute(text("DELETE FROM athlete"))


def smtp_endings(
    settings: Settings, recorder: SmtpRecorder, rounds: int, n: int, rng: random.Random
) -> Tally:
    """Part 1 on one database: random endings per athlete, the morning's ticks, the checks."""
    tally = Tally()
    for r in range(rounds):
        _clear(settings)
        recorder.messages.clear()
        names = _add_athletes(settings, f"r{r}e", n)
        given = {name: rng.choice(list(ENDINGS)) for name in names}
        recorder.plan = {f"{name}@example.org": list(ENDINGS[e][0]) for name, e in given.items()}
        for tick in TICKS:
            dispatch_due_emails(tick, settings=settings)
        rows = _rows(settings)
        for name, ending in given.items():
            _, want_messages, want_status, note = ENDINGS[ending]
            got = len(recorder.to(f"{name}@example.org"))
            row = rows.get(name)
            tally.athletes += 1
            tally.by_ending[ending] += 1
            tally.statuses[f"{ending} -> {row.status if row else 'no row'}"] += 1
            if got > 1:
                tally.doubled += 1
                tally.problems.append(f"{name} ({ending}): {got} emails")
            elif got < want_messages:
                tally.lost += 1
                tally.problems.append(f"{name} ({ending}): no email")
            if row is None or row.status != want_status or (note and note not in (row.error or "")):
                tally.wrong_status += 1
                tally.problems.append(
                    f"{name} ({ending}): row {row.status if row else None} {row and row.error}"
                )
    return tally


class Terminator(threading.Thread):
    """Terminates every other backend of the database every 20-150 ms until stopped."""

    def __init__(self, url: str, rng: random.Random) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine(url, isolation_level="AUTOCOMMIT")
        self.rng = rng
        self.stop = threading.Event()
        self.sweeps = 0
        self.killed = 0

    def run(self) -> None:
        with self.engine.connect() as conn:
            while not self.stop.wait(self.rng.uniform(0.02, 0.15)):
                self.killed += conn.execute(
                    text(
                        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()) k WHERE k.t"
                    )
                ).scalar_one()
                self.sweeps += 1
        self.engine.dispose()


def terminated_backends(
    settings: Settings, recorder: SmtpRecorder, rounds: int, n: int, rng: random.Random, logs: LogCount
) -> tuple[Tally, int, int, int]:
    """Part 2: the first two ticks under the terminator, the rest undisturbed; the checks."""
    tally = Tally()
    sweeps = killed = stopped_runs = 0
    recorder.plan = {}
    for r in range(rounds):
        _clear(settings)
        recorder.messages.clear()
        names = _add_athletes(settings, f"r{r}k", n)
        terminator = Terminator(settings.sqlalchemy_url, random.Random(rng.random()))
        terminator.start()
        try:
            for tick in TICKS[:2]:
                try:
                    dispatch_due_emails(tick, settings=settings)
                except Exception:  # noqa: BLE001 - the run's first query lost its connection
                    stopped_runs += 1
        finally:
            terminator.stop.set()
            terminator.join(30)
        sweeps += terminator.sweeps
        killed += terminator.killed
        for tick in TICKS[2:]:
            dispatch_due_emails(tick, settings=settings)
        rows = _rows(settings)
        for name in names:
            got = len(recorder.to(f"{name}@example.org"))
            row = rows.get(name)
            tally.athletes += 1
            tally.statuses[row.status if row else "no row"] += 1
            if got > 1:
                tally.doubled += 1
                tally.problems.append(f"{name}: {got} emails")
            elif got == 0:
                tally.lost += 1
                tally.problems.append(f"{name}: no email (row {row.status if row else None})")
            if row is None or row.status != "sent":
                tally.wrong_status += 1
                tally.problems.append(f"{name}: row {row.status if row else None} {row and row.error}")
    return tally, sweeps, killed, stopped_runs


def main() -> int:
    """Run both parts once; 0 when every check held."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--athletes", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    logs = LogCount()
    dispatch_log = logging.getLogger("sync.notify")
    dispatch_log.addHandler(logs)
    dispatch_log.propagate = False

    db_name = f"legday_soak_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    pg_url = PG_ADMIN.rsplit("/", 1)[0] + f"/{db_name}"
    recorder = SmtpRecorder(late_s=3.5)
    smtp = Controller(recorder, hostname="127.0.0.1", port=free_port())
    smtp.start()
    started = time.monotonic()
    results: dict[str, Tally] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            lite = _settings(Path(tmp) / "lite", None, smtp.port)
            upgrade(lite)
            pg = _settings(Path(tmp) / "pg", pg_url, smtp.port)
            upgrade(engine=engine_for(pg_url))
            for label, settings in (("SQLite", lite), ("PostgreSQL", pg)):
                results[label] = smtp_endings(settings, recorder, args.rounds, args.athletes, rng)
            # Part 2 is about the database: a generous SMTP timeout, so a reply slowed by the
            # load of the machine is not an (honestly) unconfirmed email.
            pg_slow = _settings(Path(tmp) / "pg", pg_url, smtp.port, timeout_s=10.0)
            kills, sweeps, killed, stopped = terminated_backends(
                pg_slow, recorder, args.rounds, args.athletes, rng, logs
            )
    finally:
        smtp.stop()
        engine_for(pg_url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()
    took = time.monotonic() - started

    ok = True
    print(f"{args.rounds} rounds x {args.athletes} athletes per part, seed {args.seed}: {took:.0f} s\n")
    print("| fault / check | runs | expected | observed | result |")
    print("|---|---|---|---|---|")
    for label, t in results.items():
        good = t.doubled == t.lost == t.wrong_status == 0
        ok &= good
        endings = ", ".join(f"{e} {n}" for e, n in sorted(t.by_ending.items()))
        print(
            f"| email: ambiguous SMTP endings on {label} ({endings}) | {t.athletes} deliveries, "
            f"{args.rounds} rounds | 0 doubles; 1 email each except a 554; each row as docs/email.md says | "
            f"{t.doubled} doubles, {t.lost} lost, {t.wrong_status} rows not as documented | "
            f"{'ok' if good else 'FAILED'} |"
        )
    good = kills.doubled == kills.lost == kills.wrong_status == 0
    ok &= good
    hits = ", ".join(f"{k} {n}" for k, n in sorted(logs.counts.items())) or "none logged"
    print(
        f"| email: PostgreSQL backends terminated mid-dispatch (every 20-150 ms, 2 ticks) | "
        f"{kills.athletes} athletes, {args.rounds} rounds, {sweeps} sweeps, {killed} connections killed | "
        f"1 email each, 0 doubles, every row `sent` after the later ticks | "
        f"{kills.doubled} doubles, {kills.lost} lost, {kills.wrong_status} rows not sent; "
        f"{stopped} runs stopped at their first query; {hits} | {'ok' if good else 'FAILED'} |"
    )
    print()
    for label, t in (*results.items(), ("terminated", kills)):
        print(f"{label}: rows: " + ", ".join(f"{k} {n}" for k, n in sorted(t.statuses.items())))
        for problem in t.problems[:20]:
            print("PROBLEM:", problem)
    print("all checks held" if ok else "SOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
