"""A real `legday serve` process on a loopback port, and idle or half-sent client connections:
for the timeout tests and bench/soak_web.py."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

from testkit import local_http
from testkit.helpers import REPO

HALF_SENT = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "  # headers never finished


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def legday_serve(
    data_dir: Path, *, env: dict[str, str] | None = None, max_open_files: int | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`legday serve` on the embedded data dir; yields (base URL, process) once /healthz answers.

    `max_open_files` lowers the server's RLIMIT_NOFILE, as a small container would have it.
    """
    port = free_port()
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("LEGDAY_")}
    child_env.update({"LEGDAY_DATA_DIR": str(data_dir), **(env or {})})

    def limits() -> None:
        if max_open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (max_open_files, max_open_files))

    # stderr goes to a file: a pipe nobody reads would fill up with the server's log lines
    # (e.g. "out of file descriptors") and block the server itself.
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from sync.cli import main; main()", "serve", "--port", str(port)],
            cwd=REPO,
            env=child_env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            preexec_fn=limits,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(url, proc, log)
            yield url, proc
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            local_http.get(url + "/healthz", timeout=2)
            return
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                tail = log.read()[-2000:]
                raise RuntimeError(f"legday serve did not start: {tail!r}") from None
            time.sleep(0.1)


def idle_connections(port: int, n: int, *, half_sent: bool = True) -> list[socket.socket]:
    """`n` connections that send the start of a request (or nothing) and never finish it."""
    sockets = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        if half_sent:
            s.sendall(HALF_SENT)
        s.setblocking(False)
        sockets.append(s)
    return sockets


def is_closed_by_server(s: socket.socket) -> bool:
    """True once the server closed the connection (EOF or reset); False while it is still open."""
    try:
        return s.recv(65536) == b""  # any bytes (a 408/400) would be followed by the close
    except BlockingIOError:
        return False
    except OSError:
        return True
