"""The walls of DESIGN.md section 2, checked on the import statements of sync/ and worker/.

AST only (nothing is imported), so a wall crossed inside a function body counts too.
"""

from __future__ import annotations

import ast
import functools
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STDLIB = frozenset(sys.stdlib_module_names)


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: Path) -> set[str]:
    """Every module a file imports, absolute, including `from x import y` as both x and x.y."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


@functools.cache
def all_imports() -> dict[str, set[str]]:
    """Module -> what it imports, for every file of sync/ and worker/ (parsed once, when a test
    first asks: at import time every xdist worker paid 0.8 s for it while collecting)."""
    return {
        module_name(p): imported_names(p)
        for d in ("sync", "worker")
        for p in sorted((REPO / d).rglob("*.py"))
    }


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def importers(target: str) -> list[str]:
    return sorted(m for m, names in all_imports().items() if any(within(n, target) for n in names))


def crossings(owner: str, forbidden: tuple[str, ...]) -> list[str]:
    """`module -> import` pairs where a module under `owner` imports something forbidden."""
    return sorted(
        f"{m} -> {n}"
        for m, names in all_imports().items()
        if within(m, owner)
        for n in names
        if any(within(n, f) for f in forbidden)
    )


def test_the_check_sees_the_code() -> None:
    assert "sync.garmin.client" in all_imports() and "worker.tasks" in all_imports()
    assert any(within(n, "garth") for n in all_imports()["sync.garmin.client"])


def test_sync_never_imports_worker() -> None:
    assert crossings("sync", ("worker",)) == []


@pytest.mark.parametrize(
    ("library", "owner"), [("garth", "sync.garmin.client"), ("fitparse", "sync.fit.decode")]
)
def test_one_module_imports_each_unmaintained_library(library: str, owner: str) -> None:
    assert importers(library) == [owner]


def test_the_garmin_adapter_knows_no_storage_orchestration_sandbox_or_cli() -> None:
    forbidden = (
        "sync.db",
        "sync.garmin_sync",
        "sync.ingest",
        "sync.verdicts.compute",
        "sync.sandbox",
        "sync.cli",
        "sync.demo",
    )
    assert crossings("sync.garmin", forbidden) == []


def test_the_readiness_model_is_pure() -> None:
    allowed = ("sync.readiness", "sync.fit.exercises", "pydantic", "__future__")
    bad = sorted(
        f"{m} -> {n}"
        for m, names in all_imports().items()
        if within(m, "sync.readiness")
        for n in names
        if n.split(".")[0] not in STDLIB
        and not any(within(n, a) for a in allowed)
        and n not in ("sync", "sync.fit")
    )
    assert bad == []


def test_outputs_never_call_garmin() -> None:
    """Except the workout push (sync.workouts), through the adapter."""
    assert crossings("sync.notify", ("sync.garmin",)) == []
    assert crossings("sync.web", ("sync.garmin",)) == []


OUTPUTS = ("sync.notify", "sync.web", "sync.workouts")
COMPUTE_SIDE = ("sync.daily", "sync.verdicts.compute", "sync.readiness.rules")


@pytest.mark.parametrize("output", OUTPUTS)
def test_outputs_only_read_verdicts(output: str) -> None:
    """The email, the web server and the workout push never import the compute side."""
    assert crossings(output, COMPUTE_SIDE) == []


def test_the_email_never_imports_the_web_package() -> None:
    assert crossings("sync.notify", ("sync.web",)) == []
    assert crossings("sync.links", OUTPUTS) == []  # the shared links sit below both


@pytest.mark.parametrize("inputs", ["sync.garmin_sync", "sync.ingest"])
def test_inputs_know_no_model(inputs: str) -> None:
    assert crossings(inputs, ("sync.readiness",)) == []


def test_the_verdict_package_lives_where_design_says() -> None:
    """One home for the verdict: the old modules are gone, the new ones exist."""
    for gone in ("sync.daily", "sync.workout_plan", "sync.garmin_sync.workouts", "sync.report"):
        assert gone not in all_imports()
    for module in ("sync.verdicts.compute", "sync.verdicts.read", "sync.links.signing", "sync.workouts.push"):
        assert module in all_imports()


def test_only_the_demo_and_the_sandbox_commands_import_the_sandbox() -> None:
    users = [m for m in importers("sync.sandbox") if not within(m, "sync.sandbox")]
    assert users == ["sync.cli.garmin_cmds", "sync.demo"]


def test_the_check_would_catch_a_crossing(tmp_path: Path) -> None:
    """The AST reading resolves relative imports, so `from ..db import models` is seen."""
    bad = tmp_path / "sync" / "garmin" / "bad.py"
    bad.parent.mkdir(parents=True)
    bad.write_text("from ..db import models\nimport garth.http\n", encoding="utf-8")
    global REPO
    saved, REPO = REPO, tmp_path
    try:
        assert imported_names(bad) >= {"sync.db", "sync.db.models", "garth.http"}
    finally:
        REPO = saved


SQL_BUILDERS = frozenset({"select", "insert", "update", "delete", "text"})
SQL_RUNNERS = frozenset({"execute", "scalars", "scalar"})


def sql_calls(source: str) -> list[str]:
    """The SQL a module builds or runs: calls of select()/insert()/... and of .execute()/.scalar()."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id in SQL_BUILDERS:
                found.add(node.func.id)
            elif isinstance(node.func, ast.Attribute) and node.func.attr in SQL_RUNNERS:
                found.add(node.func.attr)
    return sorted(found)


def test_the_cli_builds_and_runs_no_sql() -> None:
    """Commands parse, call one library function, print: the queries live in the library."""
    offenders = {
        str(p.relative_to(REPO)): calls
        for p in sorted((REPO / "sync" / "cli").glob("*.py"))
        if (calls := sql_calls(p.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_the_sql_check_would_catch_a_query() -> None:
    assert sql_calls("rows = session.scalars(select(Athlete))") == ["scalars", "select"]
    assert sql_calls("session.execute(text('DELETE FROM athlete'))") == ["execute", "text"]
    assert sql_calls("console.print(name)") == []
