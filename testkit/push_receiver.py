"""A small push service on loopback for Apprise's `json://` URLs: records every POST by path.

Each path answers from a script (`script[path]`: status codes used up one per request, then
200) or `refuse[path]` forever. `hold` makes requests to a path wait until released (a worker
can be killed while its request is in flight); `arrived` is the positive signal a test waits on.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    """What the receiver got: (path, JSON body, status answered), in order."""

    posts: list[tuple[str, dict[str, Any], int]] = field(default_factory=list)
    script: dict[str, list[int]] = field(default_factory=dict)
    refuse: dict[str, int] = field(default_factory=dict)
    hold: set[str] = field(default_factory=set)
    released: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str, body: dict[str, Any]) -> int:
        """The status for one request (and record it)."""
        with self.lock:
            if path in self.refuse:
                code = self.refuse[path]
            elif self.script.get(path):
                code = self.script[path].pop(0)
            else:
                code = 200
            self.posts.append((path, body, code))
        return code

    def delivered(self, path: str | None = None) -> list[dict[str, Any]]:
        """The bodies accepted (2xx), of one path or all."""
        with self.lock:
            return [b for p, b, c in self.posts if 200 <= c < 300 and (path is None or p == path)]

    def counts(self) -> Counter[tuple[str, str]]:
        """Accepted messages per (path, title's first word): "EASY", "Update:"..."""
        with self.lock:
            return Counter((p, b["title"].split()[0]) for p, b, c in self.posts if 200 <= c < 300)


@contextmanager
def push_receiver() -> Iterator[tuple[str, Received]]:
    """Yields (base `json://127.0.0.1:PORT`, the record)."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("content-length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path in received.hold:
                received.arrived.set()
                received.released.wait(60)
            code = received.answer(self.path, body)
            self.send_response(code)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    # Polled every 20 ms for shutdown(), not socketserver's 0.5 s: each test's stop waited for it.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"json://127.0.0.1:{server.server_address[1]}", received
    finally:
        received.released.set()
        server.shutdown()
        server.server_close()
