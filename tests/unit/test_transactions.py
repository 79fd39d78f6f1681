"""The transaction rule (sync/db/tx.py, docs/decisions.md), checked on the source of sync/.

Library steps never commit and never open a session of their own: only the entry points
named below do, each for the reason given. AST only (nothing is imported), so a commit
hidden in a nested function counts too. A new entry point is added here *and* to the
decisions entry, with its reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SYNC = REPO / "sync"

# Where `.commit()` may be called: (module, outermost function) -> why.
COMMITS: dict[tuple[str, str], str] = {
    ("sync/db/tx.py", "keep_progress"): "the entry points' checkpoint, handed to a long run",
    ("sync/db/session.py", "session_scope"): "the frame: commits on success, rolls back on error",
    ("sync/db/migrate.py", "_run_alembic"): "migrations: SQLite's foreign-key pragma around them",
    ("sync/web/onboarding.py", "join"): "a web request handler: the invite's one write",
    ("sync/demo.py", "run_demo"): "the demo builder, a top-level entry point",
    ("sync/demo.py", "_watch_demo"): "the demo builder's second athlete",
}

# Modules that open sessions of their own (`session_scope`), as entry points -> why.
OWN_SESSIONS: dict[str, str] = {
    "sync/db/session.py": "defines it",
    "sync/cli/": "commands: each frames its own transaction",
    "sync/demo.py": "the demo builder",
    "sync/web/context.py": "web requests: one session per request (`in_session`)",
    "sync/web/api.py": "web requests: the API's session per request",
    "sync/web/metrics.py": "the /metrics scrape: a read-only session per scrape",
    "sync/notify/dispatch.py": "the email dispatcher: the claim is committed before the send",
    "sync/garmin_sync/now.py": "sync_account_now: the locked sync the worker runs",
    "sync/workouts/push.py": "push_workout_now: the locked push the worker runs",
    "sync/onboarding/first_sync.py": "the first sync after connecting, run after the response",
    "sync/verdicts/policy.py": "ensure_morning_verdict_of: the dispatcher's hook, between its transactions",
    "sync/notify/claims.py": "the delivery claims of the email and the push: each committed before the send",
    "sync/notify/push/dispatch.py": "the push dispatcher: the claim is committed before the send",
    "sync/garmin_sync/due.py": "queue_due_syncs: its claimed page is committed before queuing",
    "sync/verdicts/marks.py": "queue_due_verdicts: its claimed page is committed before queuing",
}


def _sources() -> list[Path]:
    return [p for p in sorted(SYNC.rglob("*.py")) if "migrations" not in p.parts]


def _calls(path: Path, attr: str) -> list[tuple[str, int]]:
    """(outermost function, line) of every call of `<x>.attr(...)` or `attr(...)` in `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: list[tuple[str, int]] = []
    for top in tree.body:
        owner = (
            top.name if isinstance(top, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) else "<module>"
        )
        for node in ast.walk(top):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name == attr:
                found.append((owner, node.lineno))
    return found


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def test_library_code_never_commits() -> None:
    stray = [
        f"{_rel(p)}:{line} ({owner})"
        for p in _sources()
        for owner, line in _calls(p, "commit")
        if (_rel(p), owner) not in COMMITS
    ]
    assert stray == [], "commit outside an entry point: take a Checkpoint (sync/db/tx.py) instead"


def test_only_entry_points_open_sessions() -> None:
    def allowed(rel: str) -> bool:
        return any(rel == key or (key.endswith("/") and rel.startswith(key)) for key in OWN_SESSIONS)

    stray = [
        f"{_rel(p)}:{line} ({owner})"
        for p in _sources()
        for name in ("session_scope", "sessionmaker")
        for owner, line in _calls(p, name)
        if not allowed(_rel(p))
    ]
    assert stray == [], "a library step takes the caller's session; it never opens one"


def test_the_allowed_places_still_exist() -> None:
    """A stale entry would let a future commit slip in unnoticed."""
    for (rel, owner), _why in COMMITS.items():
        assert (owner, True) in {(o, True) for o, _ in _calls(REPO / rel, "commit")}, (rel, owner)
    for rel in OWN_SESSIONS:
        assert (REPO / rel).exists(), rel


def test_the_scan_sees_a_commit(tmp_path: Path) -> None:
    """The scanner itself: a commit in a nested function of a library step is found."""
    probe = tmp_path / "step.py"
    probe.write_text("def step(session):\n    def inner():\n        session.commit()\n    inner()\n")
    assert _calls(probe, "commit") == [("step", 3)]
