"""Soak: the report server and its key files under concurrency and abuse (issue 18).

- key-file races: N processes started together on a fresh data dir, R rounds: every process of
  a round must use the same non-empty report.key and secret.key;
- idle connections: a real `legday serve` limited to 256 open files, with silent, half-sent and
  trickling (slowloris) connections: real requests still answer and every idle connection is
  closed by the header timeout (the time it took is measured here, never in the test suite);
- metrics: requests with random methods and paths must not grow /metrics or the server's memory;
- hostile values: random non-finite / non-ASCII soreness bodies and form values (never a 5xx),
  soreness posts while Redis is down (503 with Retry-After);
- revocation: every old report/soreness link 404 after `legday token revoke`, unsubscribe 200.

Prints a Markdown table (check, runs, expected, observed, result); exits 1 when a check failed.

    .venv/bin/python bench/soak_web.py [--rounds 10] [--processes 16] [--idle 300] [--requests 3000]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import random
import re
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from sync.config import Settings  # noqa: E402
from sync.errors import ConfigError  # noqa: E402
from sync.garmin.crypto import resolve_key  # noqa: E402
from testkit.serve_process import (  # noqa: E402
    free_port,
    idle_connections,
    is_closed_by_server,
    legday_serve,
)

RACER = """
import os, sys, time
from sync.config import Settings
from sync.garmin.crypto import resolve_key
from sync.links.secret import report_key
settings = Settings()
start = sys.argv[1]
open(start + "." + str(os.getpid()), "w").close()
while not os.path.exists(start):
    time.sleep(0.0005)
try:
    print(report_key(settings).hex() + "|" + resolve_key(settings).get_secret_value(), flush=True)
except Exception as exc:
    print("ERROR|" + type(exc).__name__ + ": " + str(exc), flush=True)
"""

Row = tuple[str, str, str, str, str]


def legday(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`legday ARGS` in a child process on `data_dir`."""
    child = {k: v for k, v in os.environ.items() if not k.startswith("LEGDAY_")}
    child.update({"LEGDAY_DATA_DIR": str(data_dir), **(env or {})})
    return subprocess.run(
        [sys.executable, "-c", "from sync.cli import main; main()", *args],
        cwd=ROOT,
        env=child,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def key_file_races(work: Path, rounds: int, processes: int) -> Row:
    """R rounds of N processes creating report.key and secret.key at once."""
    bad_rounds, empty, errors = 0, 0, 0
    for r in range(rounds):
        data_dir, start = work / f"race-{r}" / "data", work / f"race-{r}" / "go"
        start.parent.mkdir(parents=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEGDAY_")}
        env["LEGDAY_DATA_DIR"] = str(data_dir)
        children = [
            subprocess.Popen(
                [sys.executable, "-c", RACER, str(start)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(processes)
        ]
        while len(list(start.parent.glob("go.*"))) < processes:
            time.sleep(0.01)
        start.touch()
        outs = [c.communicate(timeout=120)[0].strip() for c in children]
        errors += sum(o.startswith("ERROR|") for o in outs)
        pairs = {tuple(o.split("|", 1)) for o in outs if not o.startswith("ERROR|")}
        empty += sum(1 for a, b in pairs if not a or not b)
        on_disk = (
            (data_dir / "report.key").read_text().strip(),
            (data_dir / "secret.key").read_text().strip(),
        )
        if len(pairs) != 1 or errors or bytes.fromhex(next(iter(pairs))[0]).decode() != on_disk[0]:
            bad_rounds += 1
    ok = bad_rounds == 0 and empty == 0 and errors == 0
    return (
        "race: N processes create report.key + secret.key on a fresh data dir",
        f"{rounds} rounds x {processes} processes",
        "one non-empty key per file, used by every process",
        f"{bad_rounds} rounds disagreeing, {empty} empty keys, {errors} errors",
        "ok" if ok else "FAILED",
    )


def empty_key_file(work: Path) -> Row:
    """An empty report.key and an empty secret.key are refused in one line."""
    data_dir = work / "empty-key" / "data"
    assert legday(data_dir, "athlete", "add", "ana", "--timezone", "UTC").returncode == 0
    (data_dir / "report.key").write_text("")
    r = legday(data_dir, "report", "link", "--athlete", "ana")
    outcomes = [r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "report.key" in r.stderr]
    (data_dir / "secret.key").write_text("\n")
    try:
        resolve_key(Settings(data_dir=data_dir))
        outcomes.append(False)
    except ConfigError as exc:
        outcomes.append("secret.key" in str(exc) and "\n" not in str(exc))
    return (
        "empty key file on disk (report.key, secret.key)",
        "2",
        "refused in one line, never used",
        f"{sum(outcomes)} of 2 refused in one line",
        "ok" if all(outcomes) else "FAILED",
    )


def _drip(sockets: list[socket.socket], stop: threading.Event) -> None:
    """Slowloris: one header byte per connection every half second, never the end."""
    while not stop.wait(0.5):
        for s in sockets:
            with contextlib.suppress(OSError):  # closed by the server: the point
                s.send(b"a")


def idle_connection_flood(work: Path, idle: int, header_timeout: float, max_open_files: int | None) -> Row:
    """Silent, half-sent and trickling connections, against a server with `max_open_files`."""
    data_dir = work / f"idle-{max_open_files}" / "data"
    assert legday(data_dir, "athlete", "add", "ana", "--timezone", "UTC").returncode == 0
    env = {"LEGDAY_SERVE_HEADER_TIMEOUT_S": str(header_timeout)}
    with legday_serve(data_dir, env=env, max_open_files=max_open_files) as (url, proc):
        port = urlsplit(url).port
        assert port is not None
        third = idle // 3
        trickling = idle_connections(port, idle - 2 * third, half_sent=True)
        sockets = (
            idle_connections(port, third, half_sent=True)
            + idle_connections(port, third, half_sent=False)
            + trickling
        )
        stop = threading.Event()
        dripper = threading.Thread(target=_drip, args=(trickling, stop), daemon=True)
        dripper.start()
        started = time.monotonic()
        answered, latency = 0, 0.0
        for _ in range(5):
            t = time.monotonic()
            try:
                if httpx.get(url + "/healthz", timeout=30).status_code == 200:
                    answered += 1
                latency = max(latency, time.monotonic() - t)
            except httpx.HTTPError:
                latency = max(latency, time.monotonic() - t)
                break  # locked out: the others would wait as long
        closed_at: dict[int, float] = {}
        while len(closed_at) < len(sockets) and time.monotonic() - started < 90:
            for i, s in enumerate(sockets):
                if i not in closed_at and is_closed_by_server(s):
                    closed_at[i] = time.monotonic() - started
            time.sleep(0.05)
        stop.set()
        dripper.join(5)
        for s in sockets:
            s.close()
        alive = proc.poll() is None
    still_open = len(sockets) - len(closed_at)
    slowest = max(closed_at.values(), default=float("nan"))
    ok = answered == 5 and still_open == 0 and alive
    return (
        f"idle connections: silent, half-sent, slowloris; server at "
        f"{max_open_files or 'the default'} open files, header timeout {header_timeout:g} s",
        f"{len(sockets)} connections + 5 real requests",
        "real requests answer; every idle connection closed by the header timeout",
        f"{answered}/5 answered (slowest {latency:.1f} s); {len(closed_at)} closed, last after "
        f"{slowest:.1f} s; {still_open} still open after 90 s",
        "ok" if ok else "FAILED",
    )


TOKEN_CHARS = string.ascii_letters + "!#$%&'*+-.^_`|~"
PATH_CHARS = string.ascii_letters + string.digits + "-._~%"


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def metrics_growth(work: Path, requests: int, seed: int) -> Row:
    """Random methods and paths, then the size of /metrics and the server's RSS."""
    data_dir = work / "metrics" / "data"
    assert legday(data_dir, "athlete", "add", "ana", "--timezone", "UTC").returncode == 0
    rng = random.Random(seed)
    with legday_serve(data_dir) as (url, proc):
        parts = urlsplit(url)
        before = len(httpx.get(url + "/metrics", timeout=30).content)
        rss_before = _rss_kib(proc.pid)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        errors_5xx, early = 0, 0
        for i in range(requests):
            if i == requests // 10:
                early = len(httpx.get(url + "/metrics", timeout=30).content)
            method = rng.choice(["GET", "POST", "".join(rng.choices(TOKEN_CHARS, k=rng.randint(1, 24)))])
            path = rng.choice(["/", "/v1/", "/r/", "/u/", "/v1/verdicts/"]) + "".join(
                rng.choices(PATH_CHARS, k=rng.randint(1, 40))
            )
            try:
                conn.request(method, path, headers={"Content-Length": "0"})
                response = conn.getresponse()
                response.read()
                errors_5xx += response.status >= 500
                if response.will_close:
                    conn.close()
            except (http.client.HTTPException, OSError):
                conn.close()
        conn.close()
        after = len(httpx.get(url + "/metrics", timeout=30).content)
        rss_after = _rss_kib(proc.pid)
    # The first tenth meets most (route, method, status class) combinations; after it, growth stops.
    ok = after < 1.5 * early + 16384 and errors_5xx == 0
    return (
        "metrics: random HTTP methods and paths",
        f"{requests} requests",
        "/metrics and memory bounded (labels: route template, method or other, status class)",
        f"/metrics {before / 1024:.0f} KiB, {early / 1024:.0f} KiB after {requests // 10}, "
        f"{after / 1024:.0f} KiB after {requests}; RSS {rss_before / 1024:.0f} -> "
        f"{rss_after / 1024:.0f} MiB; {errors_5xx} 5xx",
        "ok" if ok else "FAILED",
    )


HOSTILE_JSON = [
    b'{"value": 1e309}',
    b'{"value": -1e309}',
    b'{"value": NaN}',
    b'{"value": Infinity}',
    b'{"value": -Infinity}',
    b'{"value": 5, "date": NaN}',
    b'{"value": 5, "x": 1e999}',
    '{"value": "\u0663"}'.encode(),
    '{"value": "\u00b2"}'.encode(),
    b'{"value": 3.0}',
    b'{"value": 99999999999999999999999}',
    b'{"value": [NaN]}',
    b"[NaN]",
    b"NaN",
    b"1e309",
]
DIGITS = "0123456789\u00b2\u00b3\u00b9\u0660\u0663\u0669\u06f3\u0967\uff13\u2463\U0001d7d9"


RESET = 599  # a connection the server dropped instead of answering (counted as a 5xx)


def _status(client: httpx.Client, url: str, **kwargs: Any) -> int:
    """The status of one POST, RESET when the server dropped the connection."""
    try:
        return client.post(url, **kwargs).status_code
    except httpx.TransportError:
        return RESET


def hostile_values(work: Path, posts: int, seed: int) -> list[Row]:
    """Random hostile JSON bodies and form values; then soreness posts with Redis down."""
    data_dir = work / "hostile" / "data"
    assert legday(data_dir, "athlete", "add", "ana", "--timezone", "UTC").returncode == 0
    token = legday(data_dir, "token", "issue", "--athlete", "ana").stdout.strip()
    rng = random.Random(seed)
    rows: list[Row] = []
    # A high rate limit: this measures the answers to values, not the limiter.
    with legday_serve(data_dir, env={"LEGDAY_SORENESS_RATE_PER_MINUTE": "100000"}) as (url, _):
        link = legday(data_dir, "report", "link", "--athlete", "ana", "--base-url", url).stdout.strip()
        statuses: dict[int, int] = {}
        with httpx.Client(timeout=30) as client:
            auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            for _ in range(posts):
                body = rng.choice(HOSTILE_JSON)
                status = _status(client, url + "/v1/soreness", content=body, headers=auth)
                statuses[status] = statuses.get(status, 0) + 1
            csrf = re.search(r'name="csrf" value="([^"]+)"', client.get(link).text)
            assert csrf is not None
            form_statuses: dict[int, int] = {}
            for _ in range(posts):
                value = "".join(rng.choices(DIGITS, k=rng.randint(1, 3)))
                status = _status(client, link, data={"value": value, "csrf": csrf.group(1)})
                form_statuses[status] = form_statuses.get(status, 0) + 1
    fivexx = sum(n for s, n in statuses.items() if s >= 500)
    rows.append(
        (
            "hostile JSON soreness bodies (1e309, NaN, -Infinity, non-ASCII digits, ...)",
            str(posts),
            "422, never a 5xx",
            ", ".join(f"{n} x {s}" for s, n in sorted(statuses.items())),
            "ok" if fivexx == 0 and set(statuses) <= {422} else "FAILED",
        )
    )
    fivexx_form = sum(n for s, n in form_statuses.items() if s >= 500)
    rows.append(
        (
            "hostile form values (random ASCII and non-ASCII digits, 1-3 of them)",
            str(posts),
            "303 for 0-10 in ASCII digits, else 422; never a 5xx",
            ", ".join(f"{n} x {s}" for s, n in sorted(form_statuses.items())),
            "ok" if fivexx_form == 0 and set(form_statuses) <= {303, 422} else "FAILED",
        )
    )
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    with legday_serve(data_dir, env={"LEGDAY_REDIS_URL": dead_redis}) as (url, _):
        answers: list[tuple[int, str | None]] = []
        for _ in range(20):
            try:
                r = httpx.post(
                    url + "/v1/soreness",
                    json={"value": 4},
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=30,
                )
                answers.append((r.status_code, r.headers.get("retry-after")))
            except httpx.TransportError:
                answers.append((RESET, None))
    good = sum(1 for s, retry in answers if s == 503 and retry and int(retry) > 0)
    rows.append(
        (
            "soreness posts while Redis is down (nothing listening)",
            "20",
            "503 with Retry-After, never a 500",
            f"{good} of 20 answered 503 with Retry-After; "
            + ", ".join(f"{n} x {c}" for c, n in sorted(Counter(a[0] for a in answers).items())),
            "ok" if good == 20 else "FAILED",
        )
    )
    return rows


def revocation(work: Path) -> Row:
    """Old links after `legday token revoke`: report/soreness 404, unsubscribe 200."""
    data_dir = work / "revoke" / "data"
    assert (
        legday(data_dir, "athlete", "add", "ana", "--timezone", "UTC", "--email", "a@example.org").returncode
        == 0
    )
    with legday_serve(data_dir) as (url, _):
        code = (
            "from sync.config import get_settings; from sync.db.session import session_scope;"
            "from sync.db.models import Athlete; from sync.links.build import *;"
            "from sync.verdicts.read import athlete_today; import sys\n"
            "with session_scope() as s:\n"
            "    a = s.query(Athlete).one(); d = athlete_today(a)\n"
            "    print(report_link(a, base=sys.argv[1])); print(report_link(a, day=d, base=sys.argv[1]))\n"
            "    [print(v) for v in soreness_links(a, d, base=sys.argv[1]).values()]\n"
            "    print(unsubscribe_link(a, base=sys.argv[1]))\n"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEGDAY_")}
        env["LEGDAY_DATA_DIR"] = str(data_dir)
        links = subprocess.run(
            [sys.executable, "-c", code, url], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        ).stdout.split()
        before = [httpx.get(link, timeout=30).status_code for link in links]
        assert legday(data_dir, "token", "revoke", "--athlete", "ana").returncode == 0
        after = [httpx.get(link, timeout=30).status_code for link in links]
        unsubscribe = httpx.post(links[-1], data={"List-Unsubscribe": "One-Click"}, timeout=30).status_code
    ok = set(before) == {200} and set(after[:-1]) == {404} and after[-1] == 200 and unsubscribe == 200
    return (
        "revocation: links issued before `legday token revoke`",
        f"{len(links)} links (report, day, 4 soreness, unsubscribe)",
        "report and soreness 404; unsubscribe still works",
        f"before {sorted(set(before))}; after: {after[:-1].count(404)} of {len(links) - 1} 404, "
        f"unsubscribe GET {after[-1]} POST {unsubscribe}",
        "ok" if ok else "FAILED",
    )


def main() -> int:
    """Run every check once; 0 when all held."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--processes", type=int, default=16)
    parser.add_argument("--idle", type=int, default=300)
    parser.add_argument("--header-timeout", type=float, default=2.0)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="legday-soak-web-") as tmp:
        work = Path(tmp)
        rows = [
            key_file_races(work, args.rounds, args.processes),
            empty_key_file(work),
            idle_connection_flood(work, args.idle, args.header_timeout, None),
            idle_connection_flood(work, args.idle, args.header_timeout, 256),
            metrics_growth(work, args.requests, args.seed),
            *hostile_values(work, args.posts, args.seed),
            revocation(work),
        ]
    print("| check | runs | expected | observed | result |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\n{len(rows)} checks in {time.monotonic() - started:.0f} s")
    return 0 if all(row[-1] == "ok" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
