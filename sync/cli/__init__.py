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
    """Import the command modules; each adds its commands to `app`."""
    from sync.cli import core, daily_cmds, demo_cmd, garmin_cmds, readiness_cmds, service_cmds

    for module in (core, readiness_cmds, daily_cmds, garmin_cmds, demo_cmd, service_cmds):
        module.register(app)


_register_all()


def main() -> None:
    """Console-script entry point."""
    from sync.config import get_settings
    from sync.logging import configure_logging

    configure_logging(get_settings().log_level)
    app()
