"""How xdist shares the suite out: a module with a module-scoped fixture runs on one worker, so
that fixture is built once; the tests marked `long` start first.

pytest 9.2 with pytest-xdist 3.8 silently split such modules (the wheel was built twice, about a
minute of the suite each time); these run a small suite the way pyproject's addopts run ours.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

TOY = """
import pytest

@pytest.fixture(scope="module")
def built():
    return object()

def test_a(built): pass
def test_b(built): pass
def test_c(built): pass
def test_d(built): pass
def test_free_1(): pass
def test_free_2(): pass
def test_free_3(): pass
"""


LONG = """
import pytest

def test_free_1(): pass
def test_free_2(): pass

@pytest.mark.long
def test_slow(): pass

def test_free_3(): pass
"""


def _run_toy(path: Path, workers: int) -> str:
    """Run the toy suite at `path` on `workers` xdist workers: pytest's verbose output."""
    # Only xdist and our hooks: the installed plugins (hypothesis, schemathesis...) would cost
    # each of the processes a second of imports and play no part here.
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "xdist", "-p", "testkit.xdist_groups",
         "-p", "no:cacheprovider", "-n", str(workers), "--dist", "loadgroup", "-v", "-o", "addopts=",
         "-o", "markers=long: toy", str(path)],
        cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def test_a_module_fixtures_tests_share_one_worker(tmp_path: Path) -> None:
    (tmp_path / "test_toy.py").write_text(TOY)
    stdout = _run_toy(tmp_path / "test_toy.py", 2)
    workers = {name: worker for worker, name in re.findall(r"\[(gw\d)\][^\n]*PASSED \S*::(test_\w+)", stdout)}
    grouped = {workers.get(name) for name in ("test_a", "test_b", "test_c", "test_d")}
    assert len(workers) == 7, stdout
    assert len(grouped) == 1, f"the module fixture's tests ran on {sorted(map(str, grouped))}"


def test_a_long_test_collected_late_starts_first(tmp_path: Path) -> None:
    (tmp_path / "test_toy.py").write_text(LONG)
    # One worker runs the work units in the order xdist hands them out.
    order = re.findall(r"PASSED \S*::(test_\w+)", _run_toy(tmp_path / "test_toy.py", 1))
    assert order == ["test_slow", "test_free_1", "test_free_2", "test_free_3"], order
