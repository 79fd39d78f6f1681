"""`legday garmin connect` and `legday garmin login` as a user runs them, against the sandbox;
and the Personal API key in no output, log line, database row or Celery message."""

from __future__ import annotations

import logging
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from packaging.requirements import Requirement
from sqlalchemy import select
from typer.testing import CliRunner

from sync.cli import app as cli
from sync.config import Settings, get_settings
from sync.db.models import GarminAccount
from sync.db.session import session_scope
from sync.db.tx import keep_progress
from sync.garmin.login_support import REQUIREMENT, installed_version, login_problem
from sync.garmin.tokens import unseal
from sync.sandbox import Sandbox
from sync.workouts.plan import PUSH_IMPOSSIBLE
from testkit.celery_worker import _reset_connections
from testkit.helpers import REPO, redis_db_url, run_cli
from tests.integration.test_garmin_token_leaks import secrets_of
from worker import tasks
from worker.app import app as celery_app


@pytest.fixture
def cli_env(settings: Settings, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    monkeypatch.setenv("LEGDAY_GARMIN_BASE_URL", sandbox.url)
    monkeypatch.setenv("LEGDAY_GARMIN_MIN_INTERVAL_S", "0")
    monkeypatch.setenv("LEGDAY_GARMIN_INITIAL_DAYS", "7")
    get_settings.cache_clear()
    assert run_cli("athlete", "add", "ana", "--timezone", "UTC").exit_code == 0
    return sandbox


def connect(*args: str, stdin: str | None = None):  # noqa: ANN201 - click Result
    return CliRunner().invoke(cli, ["garmin", "connect", "--athlete", "ana", *args], input=stdin)


def accounts() -> list[GarminAccount]:
    with session_scope(get_settings()) as s:
        return list(s.scalars(select(GarminAccount)))


def test_connect_from_stdin_then_sync(cli_env: Sandbox) -> None:
    key = cli_env.issue_personal_api_key(expires_in_days=180)
    result = connect("--key", "-", "--expires-in", "180", "--sync", stdin=key + "\n")
    assert result.exit_code == 0, result.output
    assert "connected ana" in result.output and "Personal API key" in result.output
    assert "4 new activities" in result.output  # --sync ran the first sync
    (account,) = accounts()
    assert account.token_kind == "personal_api" and account.credential_ends_at is not None
    assert key not in result.output


def test_connect_asks_for_the_key_without_echo(cli_env: Sandbox) -> None:
    key = cli_env.issue_personal_api_key(expires_in_days=30)
    result = connect(stdin=f"{key}\n30\n")
    assert result.exit_code == 0, result.output
    assert "Personal API key (not shown)" in result.output and key not in result.output
    assert len(accounts()) == 1


@pytest.mark.parametrize("how", ["wrong", "revoked", "expired"])
def test_a_refused_key_is_one_line_exit_2_and_nothing_stored(cli_env: Sandbox, how: str) -> None:
    key = "GCDC_made-up-" + "x" * 30 if how == "wrong" else cli_env.issue_personal_api_key(expires_in_days=30)
    if how == "revoked":
        cli_env.revoke_personal_api_key(key)
    if how == "expired":
        cli_env.clock.advance(31 * 86400)
    result = connect("--key", "-", "--expires-in", "30", stdin=key)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "wrong, expired or revoked" in lines[0], result.output
    assert key not in result.output and "Traceback" not in result.output
    assert accounts() == []
    assert len(cli_env.requests("personal-api-key/token")) == 1  # one exchange, never retried


def test_a_key_that_does_not_look_like_one_gets_a_hint(cli_env: Sandbox) -> None:
    result = connect("--key", "-", "--expires-in", "90", stdin="half-a-key")
    assert result.exit_code == 2 and "start with GCDC_" in result.output
    assert "half-a-key" not in result.output


def test_bad_arguments_are_one_line(cli_env: Sandbox) -> None:
    key = cli_env.issue_personal_api_key()
    on_command_line = connect("--key", key, "--expires-in", "90")
    assert on_command_line.exit_code == 2 and key not in on_command_line.output
    assert "stdin" in on_command_line.output
    odd_expiry = connect("--key", "-", "--expires-in", "45", stdin=key)
    assert odd_expiry.exit_code == 2 and "30, 90, 180, 365" in odd_expiry.output
    no_expiry = connect("--key", "-", stdin=key)
    assert no_expiry.exit_code == 2 and "--expires-in" in no_expiry.output
    assert accounts() == [] and cli_env.requests("personal-api-key/token") == []


def test_push_on_for_a_personal_api_athlete_says_why_nothing_is_pushed(cli_env: Sandbox) -> None:
    key = cli_env.issue_personal_api_key()
    assert connect("--key", "-", "--expires-in", "90", stdin=key).exit_code == 0
    result = run_cli("athlete", "set", "ana", "--push-workouts", "on")
    assert result.exit_code == 0 and PUSH_IMPOSSIBLE in " ".join(result.output.split())
    from sync.db.models import Athlete
    from sync.garmin_sync.run import open_client
    from sync.scheduling import local_today
    from sync.workouts.push import push_workout

    with session_scope(get_settings()) as s:
        ana = s.scalar(select(Athlete))
        account = s.scalar(select(GarminAccount))
        assert ana is not None and account is not None and ana.push_workouts
        cli_env.clear_log()
        pushed = push_workout(
            s,
            ana,
            local_today("UTC"),
            open_client(s, account, checkpoint=keep_progress(s)),
            checkpoint=keep_progress(s),
        )
    assert pushed.status == "skipped" and pushed.message == PUSH_IMPOSSIBLE
    assert cli_env.log == []  # not one request: the API cannot write


def test_no_key_or_token_in_logs_database_or_celery_messages(
    cli_env: Sandbox, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "requests", "sync", "celery", "kombu", "worker"):
        caplog.set_level(logging.DEBUG, logger=name)
    key = cli_env.issue_personal_api_key()
    outputs = [connect("--key", "-", "--expires-in", "90", "--sync", stdin=key).output]
    settings = get_settings()
    (account,) = accounts()
    tokens = unseal(settings, "personal_api", account.tokens_encrypted)
    # The scheduler's messages on a real Redis broker (no worker: they stay on the queue).
    url = redis_db_url(12)
    broker = redis.Redis.from_url(url)
    broker.flushdb()
    saved = {k: celery_app.conf[k] for k in ("broker_url", "task_always_eager")}
    celery_app.conf.update(broker_url=url, task_always_eager=False)
    _reset_connections()
    try:
        with session_scope(settings) as s:
            # Due now (the dispatcher selects by the stored next check, sync/garmin_sync/due.py).
            s.get(GarminAccount, account.id).next_sync_at = datetime(2000, 1, 1, tzinfo=UTC)  # type: ignore[union-attr]
        assert tasks.dispatch_syncs.run() == 1
        tasks.compute_verdict.delay(account.athlete_id, "2026-12-01")
    finally:
        celery_app.conf.update(saved)
        _reset_connections()
    messages = [
        value
        for name in broker.keys("*")
        if broker.type(name) == b"list"
        for value in broker.lrange(name, 0, -1)
    ]
    broker.flushdb()
    assert len(messages) == 2
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    texts = [formatter.format(r) for r in caplog.records] + outputs + list(capfd.readouterr())
    texts += [m.decode(errors="replace") for m in messages]
    db = Path(settings.sqlalchemy_url.removeprefix("sqlite:///"))
    raw = b"".join(p.read_bytes() for p in (db, Path(f"{db}-wal")) if p.exists())
    secrets = secrets_of(tokens)
    assert len(secrets) == 3 and key in secrets
    assert [s[:6] for s in secrets for t in texts if s in t] == []
    assert [s[:6] for s in secrets if s.encode() in raw] == []


def test_the_login_extra_installs_where_legday_runs() -> None:
    """PyPI's metadata: every garminconnect release says Requires-Python >= 3.10 (checked with
    pip for 0.2.26 to 0.3.2), so the extra must not hide behind a Python marker."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    (extra,) = project["project"]["optional-dependencies"]["login"]
    requirement = Requirement(extra)
    assert extra == REQUIREMENT and requirement.marker is None
    assert "0.3.0" in requirement.specifier and "0.2.40" not in requirement.specifier
    assert project["project"]["requires-python"] == ">=3.11"


def test_the_login_message_says_one_thing() -> None:
    missing = login_problem(None)
    old = login_problem("0.2.40")
    assert missing and old and login_problem("0.3.2") is None
    for text in (missing, old):
        assert "legday-sync[login]" in text and "3.12" not in text and "\n" not in text
        assert "legday garmin connect" in text  # the way that needs no login at all
    assert "0.2.40" in old


def test_login_here_says_what_is_missing(cli_env: Sandbox) -> None:
    problem = login_problem(installed_version())
    result = CliRunner().invoke(cli, ["garmin", "login", "--athlete", "ana"], input="")
    assert result.exit_code != 0
    if problem is not None:  # what the test machines have: no garminconnect
        assert result.exit_code == 2 and problem in " ".join(result.output.split())
