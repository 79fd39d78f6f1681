"""Soak: crashes under a real worker (issue 12, item 2), with a table of what held.

A real `legday worker` (prefork) on a redis-server of its own and PostgreSQL backfills (first
syncs reaching `--days` back) batches of sandbox athletes while: the worker's child, or the
whole worker, is SIGKILLed at random moments (`--kills`, 20 by default, over several rounds);
Redis is killed and started again mid-backfill (queues lost: no persistence); PostgreSQL is
restarted mid-backfill (only a throwaway cluster of its own, made with initdb when available);
beat is killed and restarted around the send time. After each round: every activity and
wellness day the sandbox holds is stored exactly once, every verdict is there, every athlete got
exactly one email. The engine is testkit/chaos_crash.py; tests/integration/test_crash_quick.py
runs one kill and one Redis restart.

    .venv/bin/python bench/soak_crash.py [--kills 20] [--redis 2] [--postgres 1] [--beat 1]

Without --own-postgres off, PostgreSQL rounds need initdb/pg_ctl under /usr/lib/postgresql;
otherwise the scratch database lives on LEGDAY_BENCH_PG_ADMIN and is never restarted.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from sync.config import Settings  # noqa: E402
from sync.db.migrate import upgrade  # noqa: E402
from sync.db.session import dispose_engines, engine_for  # noqa: E402
from sync.sandbox import Sandbox  # noqa: E402
from testkit.chaos_crash import CrashEngine, CrashRound, OwnRedis, wait_for  # noqa: E402
from testkit.smtp_server import SmtpRecorder, free_port  # noqa: E402

PG_ADMIN = os.environ.get("LEGDAY_BENCH_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


class OwnPostgres:
    """A throwaway PostgreSQL cluster (initdb + pg_ctl) on a free port under a temp dir."""

    def __init__(self, root: Path) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            raise FileNotFoundError("initdb not found under /usr/lib/postgresql")
        self.bin = Path(found[-1]).parent
        self.data = root / "pgdata"
        self.port = free_port()
        self.user = "postgres" if os.geteuid() != 0 else "nobody"

    def _run(self, *argv: str) -> None:
        cmd = [str(self.bin / argv[0]), *argv[1:]]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self, first: bool = False) -> None:
        """initdb (the first time) and start; waits until it accepts connections."""
        if first:
            self.data.parent.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                shutil.chown(self.data.parent, self.user)
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust")
        opts = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-w", "-l", str(self.data / "log"), "start")

    def crash(self) -> None:
        """An immediate stop (no checkpoint: a crash), then start again."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        time.sleep(1.0)
        self.start()

    def stop(self) -> None:
        """Stop for good."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def admin_url(self) -> str:
        """Its `postgres` database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"


def main() -> int:
    """Run the rounds; print the table; 0 when every check held."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs of the worker in all.")
    parser.add_argument("--kills-per-round", type=int, default=4)
    parser.add_argument("--athletes", type=int, default=3, help="Athletes backfilled per round.")
    parser.add_argument("--days", type=int, default=21, help="How far back each first sync reaches.")
    parser.add_argument("--redis", type=int, default=2, help="Redis restart rounds.")
    parser.add_argument(
        "--postgres", type=int, default=1, help="PostgreSQL restart rounds (own cluster only)."
    )
    parser.add_argument("--beat", type=int, default=1, help="Beat kill rounds.")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="legday-soak-crash-"))
    os.chmod(tmp, 0o755)
    own_pg: OwnPostgres | None = None
    if args.postgres:
        try:
            own_pg = OwnPostgres(tmp)
            own_pg.start(first=True)
        except (FileNotFoundError, subprocess.CalledProcessError) as exc:
            print(f"no PostgreSQL of our own ({exc}): PostgreSQL rounds skipped")
            own_pg = None
    admin_url = own_pg.admin_url if own_pg else PG_ADMIN
    db_name = f"legday_soak_{uuid.uuid4().hex[:8]}"
    # pre-ping: a PostgreSQL restart round kills the pooled admin connection too.
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{db_name}"
    upgrade(engine=engine_for(url))
    recorder = SmtpRecorder()
    smtp = Controller(recorder, hostname="127.0.0.1", port=free_port())
    smtp.start()
    own_redis = OwnRedis(tmp)
    own_redis.start()
    rounds: list[CrashRound] = []
    started = time.monotonic()
    engine: CrashEngine | None = None
    try:
        with Sandbox() as sb:
            settings = Settings(
                data_dir=tmp / "data",
                database_url=url,
                secret_key=SecretStr(Fernet.generate_key().decode()),
                smtp_host="127.0.0.1",
                smtp_port=smtp.port,
                smtp_security="none",
                mail_from="legday <legday@example.org>",
            )
            engine = CrashEngine(
                sb, settings, own_redis, recorder.messages, tmp, seed=args.seed, initial_days=args.days
            )
            engine.start_worker()
            done = 0
            while done < args.kills:
                r = engine.round_kills(min(args.kills_per_round, args.kills - done), athletes=args.athletes)
                rounds.append(r)
                done += r.injected
                print(
                    f"kills: {done}/{args.kills}, problems so far {sum(len(x.problems) for x in rounds)}",
                    flush=True,
                )
                if r.injected == 0:
                    break
            for _ in range(args.redis):
                rounds.append(engine.round_redis_restart(athletes=args.athletes))
                _progress(rounds[-1])
            if own_pg is not None:
                for _ in range(args.postgres):

                    def restart_pg() -> None:
                        own_pg.crash()  # type: ignore[union-attr]
                        dispose_engines(close=False)  # this process' pooled connections died with it
                        assert wait_for(lambda: _pg_up(url), 30)

                    rounds.append(
                        engine.round_restart("PostgreSQL restarted mid-backfill", restart_pg, args.athletes)
                    )
                    _progress(rounds[-1])
            for _ in range(args.beat):
                rounds.append(engine.round_beat_kill(athletes=args.athletes))
                _progress(rounds[-1])
    finally:
        if engine is not None:
            engine.close()
        own_redis.stop()
        smtp.stop()
        print(f"\n{time.monotonic() - started:.0f} s of real time, seed {args.seed}")
        print_table(rounds)
        engine_for(url).dispose()
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        finally:
            admin.dispose()
            if own_pg is not None:
                own_pg.stop()
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if all(not r.problems for r in rounds) else 1


def _progress(r: CrashRound) -> None:
    """One line per finished round, with its problems and known gaps."""
    print(f"{r.fault}: {r.seconds:.0f} s, problems {r.problems}", flush=True)


def _pg_up(url: str) -> bool:
    try:
        with engine_for(url).connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not yet"
        return False


def print_table(rounds: list[CrashRound]) -> None:
    """fault | runs | expected | observed, one line per kind of fault."""
    kinds: dict[str, list[CrashRound]] = {}
    for r in rounds:
        kinds.setdefault(r.fault, []).append(r)
    print("| fault | runs | expected | observed |")
    print("|---|---|---|---|")
    for fault, rs in kinds.items():
        athletes = sum(r.athletes for r in rs)
        problems = [p for r in rs for p in r.problems]
        observed = "all held" if not problems else f"{len(problems)} problems: " + "; ".join(problems[:5])
        print(
            f"| {fault} | {sum(r.injected for r in rs)} in {len(rs)} rounds, {athletes} athletes "
            f"| every activity/wellness day once, both verdicts, 1 email each | {observed} |"
        )


if __name__ == "__main__":
    sys.exit(main())
