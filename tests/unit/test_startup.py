"""A light start: `legday --help` and `legday import` load only what they use.

Each check runs a fresh interpreter (this test process has imported everything already) and
reads `sys.modules` as it exits. No timings here: those are in bench/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "fit" / "fenix5-run-short-01.fit"
# Heavy libraries no start-up and no `legday import` needs (garth pulls logfire, and logfire
# OpenTelemetry; cryptography is for Garmin tokens, jinja2 for email, alembic for migrations).
HEAVY = ("garth", "redis", "alembic", "jinja2", "cryptography", "celery", "logfire", "opentelemetry")

_RUN = """
import atexit, json, sys
heavy = {heavy!r}
def report():
    print("MODULES " + json.dumps(sorted(h for h in heavy if h in sys.modules)), file=sys.stderr)
atexit.register(report)
from sync.cli import main
sys.argv = ["legday", *sys.argv[1:]]
main()
"""


def loaded_by(args: list[str], tmp_path: Path, extra: tuple[str, ...] = ()) -> list[str]:
    """The heavy modules a `legday ARGS` process had loaded when it exited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEGDAY_", "PYDANTIC_"))}
    env["LEGDAY_DATA_DIR"] = str(tmp_path)  # the embedded SQLite database and raw store
    env["HOME"] = str(tmp_path)
    code = _RUN.format(heavy=HEAVY + extra)
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    line = [x for x in done.stderr.splitlines() if x.startswith("MODULES ")][-1]
    return json.loads(line.removeprefix("MODULES "))


def test_importing_the_cli_loads_nothing_heavy() -> None:
    code = (
        "import json, sys\nimport sync.cli\n"
        f"print(json.dumps(sorted(m for m in {HEAVY + ('sqlalchemy', 'fitparse')!r} if m in sys.modules)))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYDANTIC_")}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == []


def test_help_loads_nothing_heavy(tmp_path: Path) -> None:
    assert loaded_by(["--help"], tmp_path, ("sqlalchemy", "fitparse")) == []


def test_import_loads_neither_garmin_nor_email_nor_alembic_once_migrated(tmp_path: Path) -> None:
    loaded_by(["athlete", "add", "ana", "--timezone", "Europe/Berlin"], tmp_path)  # migrates
    assert loaded_by(["import", str(FIXTURE)], tmp_path) == []


def test_the_logfire_plugin_is_off_but_an_operator_setting_wins() -> None:
    code = "import os, sync; print(os.environ['PYDANTIC_DISABLE_PLUGINS'])"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYDANTIC_")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "logfire-plugin"
    env["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "__all__"


def test_head_revision_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    from sync.db.migrate import HEAD_REVISION, alembic_config

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION


@pytest.mark.parametrize("url_kind", ["new", "migrated"])
def test_schema_at_head(tmp_path: Path, url_kind: str) -> None:
    from sync.db.migrate import ensure_head, schema_at_head
    from sync.db.session import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    if url_kind == "new":
        assert not schema_at_head(engine)
    else:
        ensure_head(engine=engine)
        assert schema_at_head(engine)
        ensure_head(engine=engine)  # a no-op now
    engine.dispose()


@pytest.mark.parametrize(
    "args",
    [["status"], ["athlete", "list"], ["token", "issue", "--athlete", "ana"]],
    ids=["status", "athlete list", "token issue"],
)
def test_everyday_commands_load_no_garmin_client_broker_or_email(tmp_path: Path, args: list[str]) -> None:
    loaded_by(["athlete", "add", "ana", "--timezone", "Europe/Berlin"], tmp_path)  # migrates
    assert loaded_by(args, tmp_path, ("requests", "fitparse")) == []
