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
    from sync.cli import core, daily_cmds, demo_cmd, email_cmds, garmin_cmds, readiness_cmds, report_cmds

    for module in (core, readiness_cmds, daily_cmds, garmin_cmds, email_cmds, demo_cmd, report_cmds):
        module.register(app)


_register_all()


def main() -> None:
    """Console-script entry point."""
    from sync.config import get_settings, warn_unknown_variables
    from sync.logging import configure_logging

    configure_logging(get_settings().log_level)
    warn_unknown_variables()  # a misspelt LEGDAY_* setting must not pass silently
    app()
