"""The `legday` command line. Each sub-module registers its own commands."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="legday",
    help="Should I run tomorrow, after leg day? Sync, decode and decide.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold tokens
)


def _register_all() -> None:
    """Import command modules; each adds its commands to `app`."""
    import importlib

    for name in ("core", "readiness_cmds", "daily_cmds", "garmin_cmds"):
        try:
            module = importlib.import_module(f"sync.cli.{name}")
        except ModuleNotFoundError as exc:  # a module not written yet
            if exc.name != f"sync.cli.{name}":
                raise
            continue
        module.register(app)


_register_all()


def main() -> None:
    """Console-script entry point."""
    app()
