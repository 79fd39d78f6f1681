"""Crashes under a real worker: the engine behind bench/soak_crash.py and its quick test.

A real `legday worker` (prefork) on a private redis-server (started here on a free port, no
persistence: a restart loses the queues, as a crashed Redis would) and a PostgreSQL database
does the first syncs ("backfills" of `initial_days`) of a few sandbox athletes at a time, while
the engine SIGKILLs the worker's child or the whole worker at random moments, restarts Redis,
or kills beat around the send time. Beat's dispatchers are what bring lost work back; the
engine plays beat's part (sends `dispatch_syncs` and `dispatch_emails`) except in the beat
round, where a real `legday beat` runs and is killed and restarted.

After each round: every activity and wellness day the sandbox holds is stored exactly once,
both verdicts (today, tomorrow) of every athlete are there, and the SMTP sink received exactly
one email per athlete for the day.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from email.message import EmailMessage
from functools import partial
from pathlib import Path

import redis
from celery import Celery
from sqlalchemy import func, select

from sync.config import Settings
from sync.db.models import Activity, GarminAccount, VerdictRecord, WellnessDay
from sync.db.session import session_scope
from sync.garmin_sync.accounts import add_tokens
from sync.sandbox import Sandbox
from sync.sandbox.model import SandboxAccount
from sync.sandbox.seed import WellnessGenerator, load_fit_folder, place
from testkit.factories import make_athlete
from testkit.smtp_server import free_port

SAMPLES = Path(__file__).resolve().parents[1] / "sync" / "samples"
LEGDAY = str(Path(sys.executable).with_name("legday"))


def children(pid: int) -> list[int]:
    """The direct children of `pid` (Linux /proc)."""
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found.extend(int(x) for x in (task / "children").read_text().split())
    except FileNotFoundError:
        pass
    return found


def wait_for(predicate: Callable[[], bool], seconds: float, step: float = 0.3) -> bool:
    """Poll `predicate` until it holds or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


class OwnRedis:
    """A redis-server of our own on a free port: restarting it disturbs nobody else."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Its URL (database 0: the server is ours alone)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it (no RDB, no AOF) and wait until it answers."""
        argv = [
            "redis-server",
            "--port",
            str(self.port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.workdir),
        ]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        assert wait_for(lambda: _pings(client), 10), "own redis-server did not start"
        client.close()

    def stop(self) -> None:
        """Kill it (SIGKILL: a crash, not a clean shutdown) and wait for it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


@dataclass
class CrashRound:
    """One round's fault and what the checks found."""

    fault: str
    injected: int = 0
    athletes: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class CrashEngine:
    """Owns the worker, beat, Redis and the sandbox for a series of rounds."""

    sandbox: Sandbox
    settings: Settings  # database, data dir, secret key, SMTP pointing at the sink
    redis_server: OwnRedis
    messages: list[EmailMessage]
    workdir: Path
    seed: int = 1
    initial_days: int = 21
    latency_ms: float = 25.0
    rng: random.Random = field(init=False)
    worker: subprocess.Popen[bytes] | None = None
    beat: subprocess.Popen[bytes] | None = None
    next_id: int = 50_000_000_000
    rounds: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.sources = load_fit_folder(SAMPLES)
        self.queue = f"legday-chaos-{os.getpid()}"
        self.sync_queue = f"legday-chaos-sync-{os.getpid()}"
        self.log = self.workdir / "worker.log"
        self.sandbox.faults.latency_ms = self.latency_ms

    # -- processes ---------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """The environment of the worker and beat processes."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEGDAY_")}
        s = self.settings
        env.update(
            LEGDAY_DATA_DIR=str(s.data_dir),
            LEGDAY_DATABASE_URL=str(s.database_url),
            LEGDAY_SECRET_KEY=s.secret_key.get_secret_value() if s.secret_key else "",
            LEGDAY_REDIS_URL=self.redis_server.url,
            LEGDAY_QUEUE=self.queue,
            LEGDAY_SYNC_QUEUE=self.sync_queue,
            LEGDAY_GARMIN_BASE_URL=self.sandbox.url,
            LEGDAY_GARMIN_MIN_INTERVAL_S="0",
            LEGDAY_GARMIN_INITIAL_DAYS=str(self.initial_days),
            LEGDAY_LOCK_TTL_S="3",
            LEGDAY_VISIBILITY_TIMEOUT_S="10",
            LEGDAY_BEAT_LEASE_S="6",
            LEGDAY_DISPATCH_INTERVAL_S="3",
            LEGDAY_EMAIL_DISPATCH_INTERVAL_S="3",
            LEGDAY_SMTP_HOST=str(s.smtp_host),
            LEGDAY_SMTP_PORT=str(s.smtp_port),
            LEGDAY_SMTP_SECURITY="none",
            LEGDAY_MAIL_FROM=s.mail_from,
            LEGDAY_LOG_LEVEL="INFO",
        )
        return env

    def start_worker(self) -> None:
        """`legday worker` (prefork, one child) on both private queues."""
        argv = [
            LEGDAY,
            "worker",
            "--pool",
            "prefork",
            "-c",
            "1",
            "--",
            "--without-gossip",
            "--without-mingle",
        ]
        with open(self.log, "a") as out:
            self.worker = subprocess.Popen(argv, env=self.env(), stdout=out, stderr=subprocess.STDOUT)
        pid = self.worker.pid
        assert wait_for(lambda: len(children(pid)) >= 1, 60), self.log.read_text()[-3000:]

    def start_beat(self) -> None:
        """`legday beat` with the private schedule (dispatchers every 3 s)."""
        with open(self.workdir / "beat.log", "a") as out:
            self.beat = subprocess.Popen(
                [LEGDAY, "beat"], env=self.env(), stdout=out, stderr=subprocess.STDOUT
            )

    def stop(self, proc: subprocess.Popen[bytes] | None) -> None:
        """SIGTERM, then SIGKILL if it does not go."""
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def close(self) -> None:
        """Stop everything this engine started."""
        self.stop(self.beat)
        self.stop(self.worker)

    def send(self, name: str, *args: object, queue: str | None = None) -> None:
        """Send a task by name (as beat or a dispatcher would); retried while Redis restarts."""
        client = Celery("legday-chaos", broker=self.redis_server.url)
        try:
            client.send_task(f"worker.tasks.{name}", args=list(args), queue=queue or self.queue)
        finally:
            client.close()

    def idle(self) -> bool:
        """Nothing queued, reserved or running on our Redis (both queues empty, nothing unacked)."""
        client = redis.Redis.from_url(self.redis_server.url)
        try:
            pending = client.llen(self.queue) + client.llen(self.sync_queue)
            return pending == 0 and client.hlen("unacked") == 0
        except redis.RedisError:
            return False
        finally:
            client.close()

    # -- athletes ----------------------------------------------------------------------------

    def new_athletes(self, n: int) -> dict[str, int]:
        """N new sandbox users with activities over `initial_days`, linked; name -> account id."""
        today = self.sandbox.clock.today("UTC")
        out: dict[str, int] = {}
        send_at = (datetime.now(UTC) + timedelta(seconds=5)).time().replace(microsecond=0)
        with session_scope(self.settings) as session:
            for _ in range(n):
                self.rounds += 1
                name = f"crash{self.seed}x{self.rounds:04d}"
                days = sorted(self.rng.sample(range(1, self.initial_days), 4))
                acts = []
                for d in days:
                    self.next_id += 1
                    acts.append(place(self.rng.choice(self.sources), today - timedelta(days=d), self.next_id))
                self.sandbox.add_account(
                    SandboxAccount(
                        display_name=name,
                        profile_id=70_000_000 + self.rounds,
                        activities=acts,
                        wellness=WellnessGenerator(self.rounds, today - timedelta(days=90)),
                    )
                )
                athlete = make_athlete(session, name, email=f"{name}@example.org")
                athlete.max_hr, athlete.rest_hr = 190, 50
                # Due a few seconds from now, so the email waits for the data.
                athlete.send_time = send_at if send_at > dtime(0, 1) else dtime(0, 0)
                account = add_tokens(
                    session, athlete, self.sandbox.issue_garth_tokens(name), self.settings, verify=False
                )
                account.display_name = name
                session.flush()
                out[name] = account.id
        return out

    def queue_syncs(self, accounts: dict[str, int]) -> None:
        """Queue the new accounts' first syncs the way production does: through the dispatcher.

        It claims their marks in Redis as it queues them, so a later tick gives a failed sync no
        free second chance that production would not give it either.
        """
        self.send("dispatch_syncs")

    # -- checks ------------------------------------------------------------------------------

    def data_complete(self, accounts: dict[str, int]) -> bool:
        """Whether every account synced once and its verdicts are stored (cheap poll)."""
        today = datetime.now(UTC).date()
        with session_scope(self.settings) as s:
            ids = list(accounts.values())
            synced = s.scalar(
                select(func.count()).where(
                    GarminAccount.id.in_(ids), GarminAccount.wellness_cursor.is_not(None)
                )
            )
            athletes = select(GarminAccount.athlete_id).where(GarminAccount.id.in_(ids))
            verdicts = s.scalar(
                select(
                    func.count(func.distinct(func.concat(VerdictRecord.athlete_id, "/", VerdictRecord.date)))
                ).where(
                    VerdictRecord.athlete_id.in_(athletes),
                    VerdictRecord.date.in_([today, today + timedelta(days=1)]),
                )
            )
        return synced == len(ids) and verdicts == 2 * len(ids)

    def check(self, accounts: dict[str, int]) -> list[str]:
        """Exactly once: activities, wellness days, both verdicts, one email per athlete."""
        problems: list[str] = []
        today = self.sandbox.clock.today("UTC")
        with session_scope(self.settings) as s:
            for name, account_id in accounts.items():
                account = s.get(GarminAccount, account_id)
                assert account is not None
                aid = account.athlete_id
                acct = self.sandbox.accounts[name]
                rows = s.execute(
                    select(
                        Activity.garmin_activity_id,
                        func.count(),
                        func.count(func.distinct(Activity.session_index)),
                        func.count(func.distinct(Activity.raw_file_id)),
                    )
                    .where(Activity.athlete_id == aid)
                    .group_by(Activity.garmin_activity_id)
                ).all()
                stored = {gid: (n, k, f) for gid, n, k, f in rows}
                for gid, (n, k, f) in stored.items():
                    if n != k or f != 1:
                        problems.append(f"{name}: activity {gid}: {n} rows for {k} sessions from {f} files")
                for act in acct.activities:
                    if act.activity_id not in stored:
                        problems.append(f"{name}: activity {act.activity_id} missing")
                days = dict(
                    s.execute(
                        select(WellnessDay.date, func.count())
                        .where(WellnessDay.athlete_id == aid)
                        .group_by(WellnessDay.date)
                    ).all()
                )
                for back in range(self.initial_days + 1):
                    day = today - timedelta(days=back)
                    want = acct.wellness_day(day, today)
                    if want is not None and want.hrv_last_night is not None and days.get(day) != 1:
                        problems.append(f"{name}: wellness {day} stored {days.get(day, 0)} times")
                verdict_days = Counter(
                    s.scalars(
                        select(VerdictRecord.date).where(
                            VerdictRecord.athlete_id == aid, VerdictRecord.date >= today
                        )
                    ).all()
                )
                for day in (today, today + timedelta(days=1)):
                    if verdict_days.get(day) != 1:
                        problems.append(f"{name}: verdict {day} stored {verdict_days.get(day, 0)} times")
        for name in accounts:
            got = [m for m in self.messages if str(m["To"]) == f"{name}@example.org"]
            if len(got) != 1:
                problems.append(f"{name}: {len(got)} emails for {today} (want 1)")
        return problems

    # -- rounds ------------------------------------------------------------------------------

    def _finish(
        self, accounts: dict[str, int], result: CrashRound, *, beat: bool = False, timeout: float = 180
    ) -> None:
        """Play beat (unless a real one runs) until the data and the emails are complete; check."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not beat:
                self.send("dispatch_syncs")  # what beat sends every minute: lost work comes back
                self.send("dispatch_verdicts")  # every 10 minutes: today's verdict of everyone
            if self.data_complete(accounts):
                break
            time.sleep(3)
        emails_by = time.monotonic() + 60
        while time.monotonic() < emails_by:
            if not beat:
                self.send("dispatch_emails")
            got = {str(m["To"]) for m in self.messages}
            if all(f"{n}@example.org" in got for n in accounts):
                break
            time.sleep(3)
        if beat:
            self.stop(self.beat)  # no more ticks: the worker can run dry
        # A doubled email would be a task still queued, reserved or running: wait until there is
        # none (late acks: a message leaves `unacked` only once its task finished).
        idle = wait_for(self.idle, 120)
        if idle and not beat:
            self.send("dispatch_emails")  # and one more tick: nothing new may go out
            idle = wait_for(self.idle, 120)
        result.problems = self.check(accounts)
        if not idle:
            result.problems.append("the worker still had tasks queued or running after 2 minutes")

    def lost_tasks(self) -> int:
        """How many times the worker's log says a child died with a task in hand."""
        text = self.log.read_text()
        return text.count("WorkerLostError") + text.count("exited prematurely")

    def lost_more_than(self, count: int) -> bool:
        """The log tells of more than `count` lost tasks."""
        return self.lost_tasks() > count

    def round_kills(self, kills: int, athletes: int = 3, whole_every: int = 4) -> CrashRound:
        """SIGKILL the worker's child (every `whole_every`-th time the whole worker) mid-backfill."""
        result = CrashRound("SIGKILL worker mid-backfill", athletes=athletes)
        started = time.monotonic()
        accounts = self.new_athletes(athletes)
        self.queue_syncs(accounts)
        while result.injected < kills and not self.data_complete(accounts):
            time.sleep(self.rng.uniform(0.5, 3.0))

            # Kill mid-backfill, not an idle child: Garmin calls must be flowing now, counted from
            # here (counted from before the pause, the calls of a backfill that ended meanwhile
            # looked like a flow).
            def flowing(floor: int = len(self.sandbox.requests()) + 2) -> bool:
                return len(self.sandbox.requests()) > floor

            if not wait_for(flowing, 20, step=0.05):
                continue
            assert self.worker is not None
            kids = children(self.worker.pid)
            if not kids:
                continue
            if (result.injected + 1) % whole_every == 0:  # the node is lost: nobody rejects its task
                result.injected += 1
                for pid in [*kids, self.worker.pid]:
                    os.kill(pid, signal.SIGKILL)
                self.worker.wait(timeout=10)
                self.start_worker()
                continue
            lost_before = self.lost_tasks()
            os.kill(self.rng.choice(kids), signal.SIGKILL)
            wait_for(lambda: bool(children(self.worker.pid)), 30)  # type: ignore[union-attr]
            # Counted once the worker says the child's task was lost: a kill that fell between two
            # tasks tested nothing, and the round tries again.
            if wait_for(partial(self.lost_more_than, lost_before), 15):
                result.injected += 1
        self._finish(accounts, result)
        result.seconds = time.monotonic() - started
        return result

    def round_redis_restart(self, athletes: int = 3) -> CrashRound:
        """Kill our redis-server mid-backfill (queues lost) and start it again."""

        def restart() -> None:
            self.redis_server.stop()
            time.sleep(1.0)
            self.redis_server.start()

        return self.round_restart("Redis restarted mid-backfill", restart, athletes)

    def round_restart(self, fault: str, restart: Callable[[], None], athletes: int = 3) -> CrashRound:
        """Run `restart` (a service crashing and coming back) once the backfills are downloading."""
        result = CrashRound(fault, athletes=athletes)
        started = time.monotonic()
        accounts = self.new_athletes(athletes)
        before = len(self.sandbox.requests("/download-service"))
        self.queue_syncs(accounts)
        wait_for(lambda: len(self.sandbox.requests("/download-service")) > before, 60)
        time.sleep(self.rng.uniform(0.2, 1.5))
        restart()
        result.injected = 1
        self._finish(accounts, result)
        result.seconds = time.monotonic() - started
        return result

    def round_beat_kill(self, athletes: int = 3) -> CrashRound:
        """A real beat; SIGKILL it right around the athletes' send time, then start it again."""
        result = CrashRound("beat killed around the send time", athletes=athletes)
        started = time.monotonic()
        self.start_beat()
        accounts = self.new_athletes(athletes)
        # The send time is ~5 s away: kill beat on either side of it.
        time.sleep(self.rng.uniform(3.0, 7.0))
        assert self.beat is not None
        self.beat.kill()
        self.beat.wait(timeout=10)
        time.sleep(self.rng.uniform(0.5, 2.0))
        self.start_beat()
        result.injected = 1
        self._finish(accounts, result, beat=True)
        self.stop(self.beat)
        self.beat = None
        result.seconds = time.monotonic() - started
        return result
