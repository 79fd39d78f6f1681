"""Queries compare status columns to the enum members (sync/db/statuses.py), never to literals.

AST only: `SyncRun.status == "ok"` or `EmailDelivery.status.in_(("sent",))` anywhere in sync/
or worker/ fails; `SyncRun.status == SyncRunStatus.OK` passes.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COLUMNS = {
    ("GarminAccount", "status"),
    ("RawFile", "status"),
    ("EmailDelivery", "status"),
    ("PushedWorkout", "state"),
    ("SyncRun", "status"),
    ("NotifyChannel", "status"),
    ("ChannelDelivery", "status"),
}


def _is_column(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and (node.value.id, node.attr) in COLUMNS
    )


def _literals(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Constant) and isinstance(n.value, str) for n in ast.walk(node))


def literal_comparisons(source: str, name: str = "<probe>") -> list[int]:
    """Lines where a status column is compared to (or tested `in_`) a bare string."""
    lines: list[int] = []
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.Compare) and _is_column(node.left):
            if any(_literals(c) for c in node.comparators):
                lines.append(node.lineno)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("in_", "not_in")
            and _is_column(node.func.value)
            and any(_literals(a) for a in node.args)
        ):
            lines.append(node.lineno)
    return lines


def test_no_query_compares_a_status_to_a_literal() -> None:
    found = [
        f"{path.relative_to(REPO)}:{line}"
        for root in ("sync", "worker")
        for path in sorted((REPO / root).rglob("*.py"))
        if "migrations" not in path.parts
        for line in literal_comparisons(path.read_text(encoding="utf-8"), str(path))
    ]
    assert found == [], "compare to the enum members of sync/db/statuses.py"


def test_the_scan_sees_both_forms() -> None:
    probe = (
        'a = SyncRun.status == "ok"\n'
        'b = EmailDelivery.status.in_(("sent", "x"))\n'
        "c = SyncRun.status == SyncRunStatus.OK\n"
    )
    assert literal_comparisons(probe) == [1, 2]
