"""The built wheel runs on its own: installed in a fresh virtual environment, outside the repo.

The wheel is built from a clean copy of the sources (a stale `build/` in the checkout cannot leak
into it) by `uv build` (PEP 517, the pyproject's own build backend in an isolated environment, as
`pip wheel` or `python -m build` would), installed with its dependencies into a new venv by `uv
pip install` (seconds, where pip took about a minute of the suite), and `legday db upgrade` and
`legday demo` run from that venv with a temporary HOME and data directory, in a working directory
far from the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import httpx
import pytest

from testkit import local_http
from testkit.helpers import wait_for
from testkit.smtp_server import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
UV = [sys.executable, "-m", "uv"]  # a test dependency (pyproject's `test` extra)
# testkit/ (test support code beside sync/) is copied too: the wheel must leave it out.
SOURCES = ["pyproject.toml", "README.md", "alembic.ini", "sync", "worker", "testkit"]
NEEDED_IN_WHEEL = [
    "sync/db/alembic.ini",
    "sync/db/migrations/env.py",
    "sync/db/migrations/script.py.mako",
    "sync/notify/templates/daily.txt.j2",
    "sync/notify/templates/daily.html.j2",
    "sync/samples/PROVENANCE.tsv",
    "sync/sandbox/templates/activity_list.json",
]


def _run(args: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{args[:3]} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the freshly built wheel installed; returns its bin directory."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        path = REPO_ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copy2(path, src / name)
    dist = root / "dist"
    _run([*UV, "build", "--wheel", "-q", "--out-dir", str(dist), str(src)], cwd=root)
    (wheel,) = dist.glob("legday_sync-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [n for n in NEEDED_IN_WHEEL if n not in names]
    assert not missing, f"the wheel leaves out {missing}"
    assert any(n.startswith("sync/db/migrations/versions/") for n in names)
    assert any(n.endswith(".fit") for n in names)
    shipped = {n.split("/", 1)[0] for n in names if "/" in n and ".dist-info/" not in n}
    assert shipped == {"sync", "worker"}, f"the wheel ships {sorted(shipped)}"

    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=False, clear=True).create(env_dir)
    bin_dir = env_dir / "bin"
    _run(
        [*UV, "pip", "install", "-q", "--python", str(bin_dir / "python"), str(wheel)], cwd=root, timeout=900
    )
    return bin_dir


def _clean_env(home: Path) -> dict[str, str]:
    """The installed command's environment: no LEGDAY_* from the caller, a temp HOME and data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEGDAY_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(HOME=str(home), LEGDAY_DATA_DIR=str(home / "data"), LEGDAY_LOG_LEVEL="WARNING")
    return env


def test_the_wheel_carries_the_package_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    code = "import sync, worker; print(sync.__file__); print(worker.__file__)"
    out = _run([str(installed / "python"), "-c", code], cwd=tmp_path, env=_clean_env(tmp_path))
    for line in out.split():
        assert str(installed.parent) in line, f"imported from outside the venv: {line}"


def test_db_upgrade_and_demo_run_from_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    env = _clean_env(tmp_path)
    out = _run([str(installed / "legday"), "db", "upgrade"], cwd=tmp_path, env=env)
    assert "head" in out
    assert (tmp_path / "data" / "legday.sqlite3").is_file()

    out = _run([str(installed / "legday"), "demo"], cwd=tmp_path, env=env, timeout=300)
    assert "Verdict for" in out
    outbox = list((tmp_path / "data" / "demo" / "outbox").glob("*.eml"))
    assert len(outbox) == 1, "the demo wrote no morning email"
    mail = outbox[0].read_text()
    for part in ("/r/", "/u/", "List-Unsubscribe"):  # structured like a real morning email
        assert part in mail, f"the demo email has no {part}"

    # The demo ends with the report page reachable: its printed serve command and signed link.
    link = next(
        line.strip() for line in out.splitlines() if line.strip().startswith("http://127.0.0.1:8000/r/")
    )
    port = free_port()
    demo_env = {**env, "LEGDAY_DATA_DIR": str(tmp_path / "data" / "demo")}
    server = subprocess.Popen(
        [str(installed / "legday"), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=demo_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = link.replace("http://127.0.0.1:8000", f"http://127.0.0.1:{port}")

        def page_answers() -> bool:
            try:
                return local_http.get(url, timeout=5).status_code == 200
            except httpx.HTTPError:
                return False

        assert wait_for(page_answers, seconds=60), "the demo's report link did not open"
        assert 'id="verdict"' in local_http.get(url, timeout=5).text
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_the_service_commands_exist_in_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    env = _clean_env(tmp_path)
    for command in (["worker", "--help"], ["beat", "--help"], ["status", "--help"]):
        _run([str(installed / "legday"), *command], cwd=tmp_path, env=env)
