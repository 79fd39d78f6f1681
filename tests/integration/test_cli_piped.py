"""What the CLI prints into a pipe or a log: whole values, no wrapped commands, no chatter."""

from __future__ import annotations

import re

from sync.config import Settings
from testkit.helpers import legday_process

LONG_NAME = "ana-" + "x" * 70  # wider than Rich's 80-column default on its own


def test_piped_tables_and_hints_are_whole(settings: Settings, child_env: dict[str, str]) -> None:
    env = {**child_env, "COLUMNS": "", "TERM": "dumb"}
    zone = "America/Argentina/Buenos_Aires"
    added = legday_process("athlete", "add", LONG_NAME, "--timezone", zone, env=env)
    assert added.returncode == 0, added.stderr
    listed = legday_process("athlete", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert LONG_NAME in listed.stdout and zone in listed.stdout  # no cell cut

    status = legday_process("status", env=env)
    assert status.returncode == 0, status.stderr
    assert "last success (UTC)" in status.stdout and "next due (UTC)" in status.stdout  # times say their zone
    hint = [line for line in status.stdout.splitlines() if "add-tokens" in line]
    whole = re.compile(r"`legday garmin add-tokens --athlete NAME \.\.\.`")
    assert len(hint) == 1 and whole.search(hint[0]), status.stdout


def test_db_upgrade_at_info_shows_the_migrations_not_alembics_plugins(
    settings: Settings, child_env: dict[str, str]
) -> None:
    done = legday_process("db", "upgrade", env={**child_env, "LEGDAY_LOG_LEVEL": "INFO"})
    assert done.returncode == 0, done.stderr
    assert "Running upgrade" in done.stderr
    assert "setup plugin" not in done.stderr, done.stderr
