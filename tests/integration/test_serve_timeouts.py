"""`legday serve` closes connections that never finish their headers, so idle or half-sent
connections cannot use up the server's file descriptors and lock real requests out.

A real `legday serve` process (uvicorn), limited to 256 open files like a small container, and
real sockets."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from sync.config import Settings
from testkit import local_http
from testkit.helpers import legday_process, wait_for
from testkit.serve_process import idle_connections, is_closed_by_server, legday_serve

IDLE = 300


@pytest.mark.long
def test_half_sent_connections_are_closed_and_a_real_request_answers(
    settings: Settings, child_env: dict[str, str]
) -> None:
    assert legday_process("athlete", "add", "ana", "--timezone", "UTC", env=child_env).returncode == 0
    env = {"LEGDAY_SERVE_HEADER_TIMEOUT_S": "1"}
    with legday_serve(settings.data_dir, env=env, max_open_files=256) as (url, proc):
        port = urlsplit(url).port
        assert port is not None
        idle = idle_connections(port, IDLE // 2, half_sent=True) + idle_connections(
            port, IDLE // 2, half_sent=False
        )
        try:
            # More idle connections than the server has file descriptors: without a header
            # timeout this request waits in the listen queue for ever.
            health = local_http.get(url + "/healthz", timeout=60)
            assert health.status_code == 200 and health.json()["status"] == "ok"
            assert wait_for(lambda: all(is_closed_by_server(s) for s in idle), 120, 0.2), (
                f"{sum(not is_closed_by_server(s) for s in idle)} of {IDLE} idle connections still open"
            )
        finally:
            for s in idle:
                s.close()
        assert proc.poll() is None  # the server lives on
        assert local_http.get(url + "/healthz", timeout=30).status_code == 200


@pytest.mark.long
def test_a_keep_alive_connection_that_starts_a_second_request_and_stalls_is_closed(
    settings: Settings, child_env: dict[str, str]
) -> None:
    """After a first answer, a half-sent second request is held no longer than a first one."""
    assert legday_process("athlete", "add", "ana", "--timezone", "UTC", env=child_env).returncode == 0
    env = {"LEGDAY_SERVE_HEADER_TIMEOUT_S": "1", "LEGDAY_SERVE_KEEP_ALIVE_S": "30"}
    with legday_serve(settings.data_dir, env=env) as (url, _proc):
        port = urlsplit(url).port
        assert port is not None
        [s] = idle_connections(port, 1, half_sent=False)
        s.setblocking(True)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = b""
        while b"\r\n\r\n" not in first or not first.rstrip().endswith(b"}"):
            chunk = s.recv(65536)
            assert chunk, "closed before the first answer"
            first += chunk
        assert first.startswith(b"HTTP/1.1 200")
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
        s.setblocking(False)
        try:
            assert wait_for(lambda: is_closed_by_server(s), 60, 0.1)
        finally:
            s.close()
