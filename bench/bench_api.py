"""Benchmark: the watch feed and the verdict API against bare FastAPI endpoints, side by side.

Per database (SQLite and/or PostgreSQL), a seeded database (athletes with 20 days of wellness,
runs and today's stored verdict), one uvicorn worker per server, and a loopback load generator
(wrk when installed, else a small asyncio client) at each connection count against:

- `bare /row`: an `async def` FastAPI endpoint that reads one verdict row by primary key from
  the same database with the thinnest async access there is (SQLite: one `sqlite3` connection
  on the event loop; PostgreSQL: a queue of autocommit `psycopg.AsyncConnection`s, as many as
  legday's read pool). The yardstick: the ratios are to it.
- `bare /const`: an `async def` endpoint returning a constant (no database), for reference.
- legday's `/v1/watch` and `/v1/verdicts/today` (bearer token, the owner's verdict).
- with `--before TREE` (a checkout of an older commit: `git worktree add DIR REV`), the same
  two routes served by that tree's code from the same database, so before and after are
  measured in one run.

Each round loads every target once, in an order rotated per round, so machine noise hits all
alike; the figures are medians over rounds of req/s and p99 (and their ratios to `bare /row`
of the same round). `--in-process N` measures instead the CPU and wall time of N `/v1/watch`
calls of the ASGI app itself (no HTTP), one at a time, this tree and `--before` alternating:
steadier than HTTP load on a shared machine. Goals (issue 20): PostgreSQL >= 0.5x bare /row's
req/s and p99 <= 2x; SQLite >= 0.67x (within 1.5x) and p99 <= 1.5x. Run on demand:

    .venv/bin/python bench/bench_api.py [--database sqlite postgresql] [--duration 8]
        [--connections 10 50] [--rounds 3] [--athletes 50] [--before TREE]

PostgreSQL: a database is created on `--postgres-url`'s server (default: the tests' local
server, LEGDAY_TEST_POSTGRES_URL), migrated, seeded, and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# The tree whose `sync` a server child imports (--before starts children on another tree).
ROOT = Path(os.environ.get("LEGDAY_BENCH_TREE") or Path(__file__).resolve().parents[1])
sys.path.insert(0, str(ROOT))

THIS_TREE = Path(__file__).resolve().parents[1]
BARE = ("bare /row", "bare /const")


@dataclass
class Result:
    """One load run."""

    database: str
    name: str
    connections: int
    round: int
    rps: float
    p50_ms: float
    p99_ms: float


# -- the servers (child processes) ---------------------------------------------------------


def _settings(data_dir: Path, database_url: str | None):  # noqa: ANN202 - sync.config.Settings
    from pydantic import SecretStr

    from sync.config import Settings

    return Settings(
        data_dir=data_dir, database_url=database_url, redis_url=None, report_secret=SecretStr("bench")
    )


def bare_app(database_url: str | None, data_dir: Path, pool_size: int, row_id: int):  # noqa: ANN201
    """`async def` endpoints: a constant, and one row read with the thinnest async access."""
    from contextlib import asynccontextmanager

    from fastapi import FastAPI

    idle: asyncio.Queue = asyncio.Queue()  # PostgreSQL: the pool of autocommit connections

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # noqa: ANN202
        if database_url:
            import psycopg

            dsn = database_url.replace("postgresql+psycopg://", "postgresql://")
            for _ in range(pool_size):
                idle.put_nowait(await psycopg.AsyncConnection.connect(dsn, autocommit=True))
        yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/const")
    async def const() -> dict[str, str]:
        return {"flag": "RUN"}

    if database_url is None:
        import sqlite3

        conn = sqlite3.connect(data_dir / "legday.sqlite3", check_same_thread=False)

        @app.get("/row")
        async def row_sqlite() -> dict[str, object]:
            flag, day = conn.execute("SELECT flag, date FROM verdict WHERE id = ?", (row_id,)).fetchone()
            return {"flag": flag, "date": str(day)}

    else:

        @app.get("/row")
        async def row_postgres() -> dict[str, object]:
            conn = await idle.get()
            try:
                cur = await conn.execute("SELECT flag, date FROM verdict WHERE id = %s", (row_id,))
                flag, day = await cur.fetchone()
            finally:
                idle.put_nowait(conn)
            return {"flag": flag, "date": str(day)}

    return app


def serve(kind: str, port: int, data_dir: Path, database_url: str | None, row_id: int) -> None:
    """Run one server in this process (the child side of `start_server`)."""
    import uvicorn

    import sync

    # Which tree is served is the whole point of --before: fail loudly if it is not ROOT's.
    if not Path(sync.__file__).resolve().is_relative_to(ROOT.resolve()):
        raise SystemExit(f"sync imported from {sync.__file__}, not from {ROOT}")
    if kind == "bare":
        from sync.config import Settings

        pool = Settings.model_fields.get("api_read_pool_size")
        app = bare_app(database_url, data_dir, int(pool.default) if pool else 10, row_id)
    else:
        from sync.web.app import create_app

        app = create_app(_settings(data_dir, database_url))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, workers=1)


def asgi_cpu(data_dir: Path, database_url: str | None, token: str, n: int) -> None:
    """The child side of `--in-process`: CPU and wall per `/v1/watch` calling the ASGI app
    directly (no HTTP, no load generator), one request at a time; prints one line."""
    import sync
    from sync.web.app import create_app

    assert Path(sync.__file__).resolve().is_relative_to(ROOT.resolve()), sync.__file__
    app = create_app(_settings(data_dir, database_url))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/v1/watch",
        "raw_path": b"/v1/watch",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    statuses: list[int] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(int(message["status"]))  # type: ignore[call-overload]

    async def run() -> None:
        for _ in range(200):  # warm-up: pools, prepared statements, caches
            await app(dict(scope), receive, send)
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(n):
            await app(dict(scope), receive, send)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        assert set(statuses) == {200}, set(statuses)
        print(f"{1e6 * cpu / n:.0f} {1e6 * wall / n:.0f}")

    asyncio.run(run())


def in_process(
    data_dir: Path, database_url: str | None, token: str, n: int, tree: Path
) -> tuple[float, float]:
    """(CPU us, wall us) per in-process `/v1/watch` of `tree`'s app, in a fresh child."""
    cmd = [
        sys.executable,
        str(THIS_TREE / "bench" / "bench_api.py"),
        "--serve",
        "asgi",
        "--data",
        str(data_dir),
    ]
    cmd += ["--token", token, "--requests", str(n)] + (["--db-url", database_url] if database_url else [])
    env = {**os.environ, "PYTHONPATH": str(tree), "LEGDAY_BENCH_TREE": str(tree)}
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout.split()
    return float(out[-2]), float(out[-1])


def start_server(
    kind: str, data_dir: Path, database_url: str | None, row_id: int, tree: Path = THIS_TREE
) -> tuple[subprocess.Popen, int]:
    """Start a uvicorn server in a child process and wait until it accepts connections."""
    from testkit.smtp_server import free_port

    port = free_port()
    cmd = [sys.executable, str(THIS_TREE / "bench" / "bench_api.py"), "--serve", kind, "--port", str(port)]
    cmd += ["--data", str(data_dir), "--row-id", str(row_id)]
    if database_url:
        cmd += ["--db-url", database_url]
    proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONPATH": str(tree), "LEGDAY_BENCH_TREE": str(tree)})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{kind} server ({tree}) exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{kind} server did not start")


# -- the databases -------------------------------------------------------------------------


@contextmanager
def database(kind: str, tmp: Path, postgres_url: str):  # noqa: ANN201 - yields (url | None, dir)
    """A migrated, empty database of `kind`: (database_url or None for SQLite, data dir)."""
    data = tmp / kind
    if kind == "sqlite":
        yield None, data
        return
    from sqlalchemy import create_engine, text

    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    name = f"legday_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres_url.rsplit("/", 1)[0] + f"/{name}", data
    finally:
        from sync.db.session import dispose_engines

        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed(data_dir: Path, database_url: str | None, athletes: int) -> tuple[str, int]:
    """Migrate and seed; returns the first athlete's token and their verdict's row id."""
    from sqlalchemy import select

    from sync.db.migrate import upgrade
    from sync.db.models import VerdictRecord
    from sync.db.session import session_scope
    from testkit.report_server import seed_athlete

    settings = _settings(data_dir, database_url)
    upgrade(settings)
    first = seed_athlete(settings, "athlete000")
    for i in range(1, athletes):
        seed_athlete(settings, f"athlete{i:03d}")
    with session_scope(settings) as session:
        row_id = session.scalar(select(VerdictRecord.id).where(VerdictRecord.athlete_id == first.id))
    return first.token, int(row_id)


# -- the load generators -------------------------------------------------------------------


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(
    url: str, connections: int, duration: float, headers: dict[str, str]
) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) measured by wrk with one thread."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{int(duration)}s", "--latency", url]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+([\d.]+\w+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+([\d.]+\w+)", out).group(1))
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"errors from {url}:\n{out}")
    return rps, p50, p99


async def _client(host: str, port: int, request: bytes, stop: float, latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
            await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head.decode(errors="replace"))
            latencies.append(time.perf_counter() - started)
    finally:
        writer.close()


def run_python(
    url: str, connections: int, duration: float, headers: dict[str, str]
) -> tuple[float, float, float]:
    """The same numbers from a keep-alive asyncio client (when wrk is not installed)."""
    host_port, _, path = url.removeprefix("http://").partition("/")
    host, port = host_port.split(":")
    lines = [f"GET /{path} HTTP/1.1", f"Host: {host_port}"] + [f"{k}: {v}" for k, v in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    latencies: list[float] = []

    async def main() -> None:
        stop = time.perf_counter() + duration
        await asyncio.gather(
            *(_client(host, int(port), request, stop, latencies) for _ in range(connections))
        )

    asyncio.run(main())
    cuts = statistics.quantiles(latencies, n=100)
    return len(latencies) / duration, cuts[49] * 1000, cuts[98] * 1000


# -- one database's measurements -----------------------------------------------------------


def measure(kind: str, args: argparse.Namespace, tmp: Path, load) -> list[Result]:  # noqa: ANN001
    """Seed `kind`, start the servers, load every target per round; every run's figures."""
    results: list[Result] = []
    with database(kind, tmp, args.postgres_url) as (url, data):
        token, row_id = seed(data, url, args.athletes)
        auth = {"Authorization": f"Bearer {token}"}
        if args.in_process:
            trees = [("after", THIS_TREE)] + ([("before", args.before)] if args.before else [])
            for rnd in range(args.rounds):
                for label, tree in trees if rnd % 2 == 0 else trees[::-1]:
                    cpu, wall = in_process(data, url, token, args.in_process, tree)
                    results.append(Result(kind, f"in-process {label}", 1, rnd, cpu, wall, wall))
            return results
        servers = {
            "bare": start_server("bare", data, url, row_id),
            "after": start_server("legday", data, url, row_id),
        }
        if args.before:
            servers["before"] = start_server("legday", data, url, row_id, tree=args.before)
        base = "http://127.0.0.1:{}"
        targets = [
            ("bare /row", base.format(servers["bare"][1]) + "/row", {}),
            ("bare /const", base.format(servers["bare"][1]) + "/const", {}),
        ]
        for label in ("after", "before"):
            if label in servers:
                for route in ("/v1/watch", "/v1/verdicts/today"):
                    targets.append((f"{route} {label}", base.format(servers[label][1]) + route, auth))
        try:
            for _, target, headers in targets:  # warm up: imports, pools, prepared statements
                load(target, 10, 2, headers)
            for rnd in range(args.rounds):
                for connections in args.connections:
                    shift = rnd % len(targets)
                    for name, target, headers in targets[shift:] + targets[:shift]:
                        rps, p50, p99 = load(target, connections, args.duration, headers)
                        results.append(Result(kind, name, connections, rnd, rps, p50, p99))
        finally:
            for proc, _ in servers.values():
                proc.terminate()
                proc.wait(10)
    return results


def report(results: list[Result]) -> None:
    """Medians over rounds: req/s, p50, p99 and the per-round ratios to `bare /row`."""
    print(
        f"{'database':<11}{'endpoint':<26}{'conns':>6}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'x req/s':>9}{'x p99':>8}   (ratios to bare /row: median of rounds, range)"
    )
    keys = list(dict.fromkeys((r.database, r.connections, r.name) for r in results))
    for db, conns, name in keys:
        runs = [r for r in results if (r.database, r.connections, r.name) == (db, conns, name)]
        bases = {
            r.round: r for r in results if (r.database, r.connections, r.name) == (db, conns, "bare /row")
        }
        x_rps = [r.rps / bases[r.round].rps for r in runs]
        x_p99 = [r.p99_ms / bases[r.round].p99_ms for r in runs]
        rps, p50, p99 = (statistics.median(getattr(r, f) for r in runs) for f in ("rps", "p50_ms", "p99_ms"))
        print(
            f"{db:<11}{name:<26}{conns:>6}{rps:>9.0f}{p50:>9.1f}{p99:>9.1f}"
            f"{statistics.median(x_rps):>9.2f}{statistics.median(x_p99):>8.2f}"
            f"   ({min(x_rps):.2f}-{max(x_rps):.2f}, {min(x_p99):.2f}-{max(x_p99):.2f})"
        )


def main() -> None:
    """Seed, start the servers, load each endpoint in turn, print figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"]
    )
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--connections", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--athletes", type=int, default=50)
    parser.add_argument("--before", type=Path, help="a checkout of an older commit, served alongside")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "LEGDAY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--generator", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument(
        "--in-process",
        type=int,
        metavar="N",
        help="instead of HTTP load: CPU and wall per /v1/watch over N calls of the ASGI app itself",
    )
    parser.add_argument("--serve", choices=["bare", "legday", "asgi"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db-url", help=argparse.SUPPRESS)
    parser.add_argument("--row-id", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve == "asgi":
        asgi_cpu(args.data, args.db_url, args.token, args.requests)
        return
    if args.serve:
        serve(args.serve, args.port, args.data, args.db_url, args.row_id)
        return

    use_wrk = args.generator == "wrk" or (args.generator == "auto" and shutil.which("wrk"))
    load = run_wrk if use_wrk else run_python
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.database:
            results += measure(kind, args, Path(tmp), load)
    if args.in_process:
        print(
            f"/v1/watch called in process, {args.in_process} calls per round, {args.rounds} rounds (medians)"
        )
        for kind in args.database:
            for label in ("after", "before"):
                runs = [r for r in results if r.database == kind and r.name == f"in-process {label}"]
                if runs:
                    cpu = statistics.median(r.rps for r in runs)
                    wall = statistics.median(r.p50_ms for r in runs)
                    print(f"{kind:<11}{label:<8} {cpu:6.0f} us CPU  {wall:6.0f} us wall per request")
        return
    print(
        f"load generator: {'wrk -t1' if use_wrk else 'python asyncio'}; {args.duration:g} s per run; "
        f"{args.rounds} rounds; {os.cpu_count()} cores; one uvicorn worker per server; "
        f"{args.athletes} athletes seeded" + (f"; before = {args.before}" if args.before else "")
    )
    report(results)


if __name__ == "__main__":
    main()
