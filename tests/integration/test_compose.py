"""docker-compose.yml, read as Compose would (PyYAML), and its commands run natively.

Docker cannot run here; instead: the services and their health checks, the start order, no
`.env` needed, one image, and every `legday` / `celery` command a service runs really exists
(`legday db upgrade` runs on a temp database; the workers' Celery command lines are built by
`legday worker --dry-run` and checked by Celery itself with `--help`).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from sync.config import Settings
from testkit.helpers import redis_db_url, serving, wait_for
from testkit.smtp_server import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE = REPO_ROOT / "docker-compose.yml"
BIN = Path(sys.executable).parent
LONG_RUNNING = {"postgres", "redis", "worker", "worker-compute", "beat", "api", "flower", "mailpit"}
OURS = {"migrate", "worker", "worker-compute", "beat", "api", "flower"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def _run(argv: list[str], env: dict[str, str], expect: int = 0) -> subprocess.CompletedProcess[str]:
    exe = str(BIN / argv[0]) if (BIN / argv[0]).exists() else argv[0]
    result = subprocess.run([exe, *argv[1:]], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == expect, f"{argv}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture
def native_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGDAY_")}
    env.update(HOME=str(tmp_path), LEGDAY_DATA_DIR=str(tmp_path / "data"))
    return env


def test_services_health_checks_and_start_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == LONG_RUNNING | {"migrate"}
    for name in LONG_RUNNING:
        check = services[name].get("healthcheck")
        assert check and check["test"], f"{name} has no health check"
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in OURS - {"migrate"}:
        after = services[name]["depends_on"]
        assert after["migrate"] == {"condition": "service_completed_successfully"}, name
        assert after["postgres"] == after["redis"] == {"condition": "service_healthy"}, name
    images = {services[name]["image"] for name in OURS}
    assert images == {"legday:latest"} and all(services[n]["build"] == "." for n in OURS)


def test_starts_without_a_dot_env(compose: dict[str, Any]) -> None:
    text = COMPOSE.read_text()
    assert not any("env_file" in svc for svc in compose["services"].values())
    variables = re.findall(r"(?<!\$)\$\{([^}]*)\}", text)
    assert variables
    undefaulted = [v for v in variables if ":-" not in v]
    assert undefaulted == [], f"variables without a default: {undefaulted}"


def _commands(compose: dict[str, Any]) -> list[list[str]]:
    found = []
    for svc in compose["services"].values():
        for argv in (svc.get("command"), (svc.get("healthcheck") or {}).get("test")):
            if not argv:
                continue
            if isinstance(argv, str):
                argv = shlex.split(argv)
            if argv[0] in ("CMD", "CMD-SHELL"):
                argv = argv[1:] if argv[0] == "CMD" else shlex.split(argv[1])
            if argv[0] in ("legday", "celery"):
                found.append([a.replace("$$", "$") for a in argv])
    return found


def _serve_natively(argv: list[str], env: dict[str, str]) -> None:
    """The api service's command on a free loopback port: /healthz answers 200."""
    port = free_port()
    args = [*argv[:2], "--host", "127.0.0.1", "--port", str(port)]
    assert "--host" in argv and "--port" in argv  # compose sets both; here they are rebound
    proc = subprocess.Popen(
        [str(BIN / "legday"), *args[1:]], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        assert serving(url, proc), f"the api service never answered: {proc.poll()=}"
        with urllib.request.urlopen(url, timeout=5) as answer:
            assert answer.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_every_legday_and_celery_command_exists(compose: dict[str, Any], native_env: dict[str, str]) -> None:
    commands = _commands(compose)
    assert ["legday", "db", "upgrade"] in commands
    for argv in commands:
        if argv[:3] == ["legday", "db", "upgrade"]:
            _run(argv, native_env)  # really migrates a temp SQLite database
            assert (Path(native_env["LEGDAY_DATA_DIR"]) / "legday.sqlite3").is_file()
        elif argv[:2] == ["legday", "worker"] and argv[-1] == "--check":
            _run(argv, native_env, expect=1)  # no worker runs here: unhealthy, not unknown
        elif argv[:2] == ["legday", "worker"] or argv == ["legday", "beat"]:
            printed = _run([*argv, "--dry-run"], native_env).stdout.strip()
            celery = shlex.split(printed)
            assert celery[1:4] == ["-m", "celery", "-A"], printed
            _run([*celery, "--help"], native_env)  # Celery accepts every option legday passes
        elif argv[:2] == ["legday", "serve"]:
            _serve_natively(argv, native_env)
        elif argv == ["legday", "beat", "--check"]:
            _run(argv, native_env, expect=1)  # no beat has ticked here: unhealthy, not unknown
        elif argv[0] == "celery":
            assert argv[1:3] == ["-A", "worker.app"], argv
            words = []
            for word in argv[3:]:
                if word.startswith("-"):
                    break
                words.append(word)
            _run(["celery", "-A", "worker.app", *words, "--help"], native_env)  # e.g. flower, inspect ping
        else:
            pytest.fail(f"no native check for {argv}")


def test_workers_and_beat_refuse_to_start_without_a_broker(native_env: dict[str, str]) -> None:
    for command in (["legday", "worker"], ["legday", "beat"]):
        result = _run(command, native_env, expect=2)
        assert "LEGDAY_REDIS_URL" in result.stderr


def test_each_worker_role_answers_its_compose_health_check_under_its_own_name(
    compose: dict[str, Any], native_env: dict[str, str]
) -> None:
    """Two roles on one host: two Celery node names, and each health check sees only its own."""
    env = {**native_env, "LEGDAY_REDIS_URL": redis_db_url(8)}
    host = socket.gethostname()

    def check(name: str) -> int:
        argv = compose["services"][name]["healthcheck"]["test"]
        assert argv[:3] == ["CMD", "legday", "worker"], argv
        return subprocess.run([str(BIN / "legday"), *argv[2:]], env=env, capture_output=True).returncode

    def start(name: str) -> subprocess.Popen[bytes]:
        argv = [str(BIN / "legday"), *compose["services"][name]["command"][1:], "-c", "1"]
        return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    assert check("worker") == check("worker-compute") == 1  # nothing runs yet
    sync_worker = start("worker")
    compute = None
    try:
        assert wait_for(lambda: check("worker") == 0, seconds=90, step=1), "the sync worker never got healthy"
        assert check("worker-compute") == 1  # a live sync worker does not make compute look alive
        compute = start("worker-compute")
        assert wait_for(lambda: check("worker-compute") == 0, seconds=90, step=1), "compute never got healthy"
        want = {f"sync@{host}", f"compute@{host}"}
        replies: list[str] = []

        def both_answer() -> bool:
            # A worker busy with its first task (or a slow machine) may miss one 5-s ping: ask
            # again until both names answer, or the wait ends and the replies are shown.
            ping = subprocess.run(
                [str(BIN / "celery"), "-A", "worker.app", "inspect", "ping", "--timeout", "5", "--json"],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            replies.append(ping.stdout)
            return ping.returncode == 0 and want <= set(json.loads(ping.stdout))  # {node name: reply}

        assert wait_for(both_answer, seconds=90, step=1), replies
    finally:
        for proc in (sync_worker, compute):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)


def test_a_worker_mark_older_than_a_minute_is_dead(settings: Settings) -> None:
    from sync.cli.service_cmds import worker_alive
    from sync.locks import worker_heartbeat_file

    mark = worker_heartbeat_file(settings, "sync@somehost")
    mark.parent.mkdir(parents=True)
    mark.touch()
    written = mark.stat().st_mtime
    assert worker_alive(settings, "sync@somehost", now=written + 5)
    assert not worker_alive(settings, "sync@somehost", now=written + 61)
    assert not worker_alive(settings, "compute@somehost", now=written + 5)
