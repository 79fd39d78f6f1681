"""A real `legday serve`: signed links are credentials, so its log shows their route only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from sync.config import Settings
from sync.db.migrate import upgrade
from sync.db.session import session_scope
from sync.links.build import report_link, unsubscribe_link
from testkit import local_http
from testkit.factories import make_athlete
from testkit.helpers import wait_for
from testkit.smtp_server import free_port

LEGDAY = str(Path(sys.executable).with_name("legday"))


def test_serve_logs_neither_a_report_link_nor_an_unsubscribe_link(
    settings: Settings, child_env: dict[str, str]
) -> None:
    upgrade(settings)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with session_scope(settings) as session:
        ana = make_athlete(session, "ana", email="ana@example.org")
        links = [
            report_link(ana, settings=settings, base=base),
            unsubscribe_link(ana, settings=settings, base=base),
        ]
    env = {**child_env, "LEGDAY_LOG_LEVEL": "INFO"}
    server = subprocess.Popen(
        [LEGDAY, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:

        def up() -> bool:
            try:
                return local_http.get(f"{base}/healthz", timeout=5).status_code in (200, 503)
            except httpx.HTTPError:
                return False

        assert wait_for(up, seconds=60), "legday serve did not start"
        for link in links:
            assert local_http.get(link, timeout=10).status_code == 200
    finally:
        server.terminate()
        logged, _ = server.communicate(timeout=30)
    assert "/r/<redacted>" in logged and "/u/<redacted>" in logged, logged  # the requests were logged
    for link in links:
        signed = link.rsplit("/", 1)[1].split("?")[0]
        assert signed not in logged, f"a signed value reached the log: {signed[:12]}..."
