"""Benchmark: the report API against a bare FastAPI endpoint, side by side in one run.

A seeded SQLite database (athletes with 60 days of wellness, runs and stored verdicts), one
uvicorn worker per server, and a loopback load generator (wrk when installed, else a small
asyncio client) at 10 and 50 connections against `/v1/watch`, `/v1/verdicts/today` and a bare
FastAPI app returning a constant. Prints requests/s and p50/p99 latency, and the ratios to the
bare endpoint (goal: >= 0.5x its throughput, p99 <= 1.5x its p99). Run on demand:

    .venv/bin/python bench/bench_api.py [--duration 10] [--connections 10 50] [--athletes 50]
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
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from testkit.smtp_server import free_port  # noqa: E402 - the free port the tests use


@dataclass
class Result:
    """One load run."""

    name: str
    connections: int
    rps: float
    p50_ms: float
    p99_ms: float


def seed(data_dir: Path, athletes: int) -> str:
    """Create and seed the database; returns the first athlete's token."""
    from pydantic import SecretStr

    from sync.config import Settings
    from sync.db.migrate import upgrade
    from testkit.report_server import seed_athlete

    settings = Settings(
        data_dir=data_dir, database_url=None, redis_url=None, report_secret=SecretStr("bench")
    )
    upgrade(settings)
    tokens = [seed_athlete(settings, f"athlete{i:03d}").token for i in range(athletes)]
    return tokens[0]


def serve(kind: str, port: int, data_dir: Path) -> None:
    """Run one server in this process (the child side of `start_server`)."""
    import uvicorn
    from fastapi import FastAPI

    if kind == "bare":
        app = FastAPI()

        @app.get("/const")
        def const() -> dict[str, str]:
            return {"flag": "RUN"}

    else:
        from pydantic import SecretStr

        from sync.config import Settings
        from sync.web.app import create_app

        app = create_app(
            Settings(data_dir=data_dir, database_url=None, redis_url=None, report_secret=SecretStr("bench"))
        )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, workers=1)


def start_server(kind: str, data_dir: Path) -> tuple[subprocess.Popen, int]:
    """Start a uvicorn server in a child process and wait until it accepts connections."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, "--port", str(port), "--data", str(data_dir)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{kind} server did not start")


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
    if "Non-2xx" in out:
        raise RuntimeError(f"non-2xx answers from {url}:\n{out}")
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


def main() -> None:
    """Seed, start both servers, load each endpoint in turn, print figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connections", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--athletes", type=int, default=50)
    parser.add_argument("--generator", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--serve", choices=["bare", "legday"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.data)
        return

    use_wrk = args.generator == "wrk" or (args.generator == "auto" and shutil.which("wrk"))
    load = run_wrk if use_wrk else run_python
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        token = seed(data, args.athletes)
        auth = {"Authorization": f"Bearer {token}"}
        bare, bare_port = start_server("bare", data)
        legday, port = start_server("legday", data)
        targets = [
            ("bare /const", f"http://127.0.0.1:{bare_port}/const", {}),
            ("/v1/watch", f"http://127.0.0.1:{port}/v1/watch", auth),
            ("/v1/verdicts/today", f"http://127.0.0.1:{port}/v1/verdicts/today", auth),
        ]
        results: list[Result] = []
        try:
            for _, url, headers in targets:  # warm up: imports, connection pools, caches
                load(url, 10, 2, headers)
            for connections in args.connections:
                for name, url, headers in targets:
                    rps, p50, p99 = load(url, connections, args.duration, headers)
                    results.append(Result(name, connections, rps, p50, p99))
        finally:
            for proc in (bare, legday):
                proc.terminate()
                proc.wait(10)
    print(
        f"load generator: {'wrk -t1' if use_wrk else 'python asyncio'}; {args.duration:g} s per run; "
        f"{os.cpu_count()} cores; one uvicorn worker per server; {args.athletes} athletes seeded"
    )
    print(f"{'endpoint':<22}{'conns':>6}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'x req/s':>9}{'x p99':>8}")
    for r in results:
        base = next(b for b in results if b.name == "bare /const" and b.connections == r.connections)
        print(
            f"{r.name:<22}{r.connections:>6}{r.rps:>10.0f}{r.p50_ms:>9.1f}{r.p99_ms:>9.1f}"
            f"{r.rps / base.rps:>9.2f}{r.p99_ms / base.p99_ms:>8.2f}"
        )


if __name__ == "__main__":
    main()
