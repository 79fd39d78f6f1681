"""The transaction rule: the caller frames the transaction; library steps never commit.

Two kinds of code touch the database (docs/decisions.md, "One transaction rule"):

- **Entry points that own transactions** open a session (`session_scope`) or receive one
  from their framework, and commit it: the CLI commands (`sync/cli/`), the web request
  handlers (`sync/web/`), the worker's library entry points (`garmin_sync/now.py`
  `sync_account_now`, `workouts/push.py` `push_workout_now`, `onboarding/first_sync.py`),
  the email and push dispatchers (`notify/dispatch.py`, `notify/push/dispatch.py` and their
  shared claims, `notify/claims.py`: a claim is committed *before* the send, the exactly-once
  rule of docs/email.md) with the email's prepare hook (`verdicts/policy.py`
  `ensure_morning_verdict_of`), the dispatchers that claim a page of due rows before queuing
  (`garmin_sync/due.py` `queue_due_syncs`, `verdicts/marks.py` `queue_due_verdicts`) and the
  demo builder (`sync/demo.py`).
- **Library steps** take the caller's `Session`, add and flush, and never call
  `session.commit()`. A long run that must keep its progress when it is cut short (a backfill
  window, one imported or re-decoded file, a Garmin id the moment it is known, the sync_run row
  of a run that fails) calls a `Checkpoint` instead: a callable the caller must pass in (the
  parameter has no default, so no library run commits unless its caller said so). Entry
  points pass `keep_progress(session)`, which commits their own session; a caller that wants
  the whole run in one transaction passes `NO_CHECKPOINT`.

One more exception: refreshed Garmin tokens are saved on a connection of their own
(`garmin_sync/token_store.py`), so a token rotation is never lost with a failed window and
never commits the run's half-done window.

`tests/unit/test_transactions.py` fails when `.commit(` appears anywhere else in `sync/`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI imports this module at start-up: no SQLAlchemy for that
    from sqlalchemy.orm import Session

Checkpoint = Callable[[], None]
"""Called by a long run at each point where the work done so far must survive an interrupt."""


def keep_progress(session: Session) -> Checkpoint:
    """The entry points' checkpoint: commit `session` (their own), so a resumed run starts here."""

    def checkpoint() -> None:
        session.commit()

    return checkpoint


def NO_CHECKPOINT() -> None:  # noqa: N802 - a constant that is called
    """A checkpoint that keeps nothing early: the caller commits (or rolls back) the whole run."""
