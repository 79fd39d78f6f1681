"""`legday athlete notify add|list|resume|remove` as a user runs them, on the embedded default."""

from __future__ import annotations

from sync.config import Settings
from testkit.helpers import run_cli

SECRET_PATH = "a-secret-topic-4f9d2c"


def test_a_channel_is_added_listed_redacted_resumed_and_removed(settings: Settings) -> None:
    assert run_cli("athlete", "add", "ana", "--timezone", "Europe/Berlin").exit_code == 0
    added = run_cli("athlete", "notify", "add", "ana", f"json://127.0.0.1:9/{SECRET_PATH}")
    assert added.exit_code == 0, added.output
    listed = run_cli("athlete", "notify", "list", "ana")
    assert listed.exit_code == 0 and "json" in listed.output
    assert SECRET_PATH not in listed.output  # the path is a secret: shown redacted

    resumed = run_cli("athlete", "notify", "resume", "ana", "1")
    assert resumed.exit_code == 0 and "channel 1 of ana active again" in resumed.output
    removed = run_cli("athlete", "notify", "remove", "ana", "1")
    assert removed.exit_code == 0 and "channel 1 of ana removed" in removed.output
    assert "json" not in run_cli("athlete", "notify", "list", "ana").output

    again = run_cli("athlete", "notify", "remove", "ana", "1")  # not theirs any more: one line, exit 2
    assert again.exit_code == 2 and "Traceback" not in again.output
    assert run_cli("athlete", "notify", "resume", "ana", "1").exit_code == 2
