"""The `legday` command line. Each sub-module registers its own commands."""

from __future__ import annotations

import sys

import typer

app = typer.Typer(
    name="legday",
    help="Should I run tomorrow, after leg day? Sync, decode and decide.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold tokens
)


def _register_all() -> None:
    """Import the command modules; each adds its commands to `app`."""
    from sync.cli import (
        core,
        daily_cmds,
        demo_cmd,
        email_cmds,
        garmin_cmds,
        invite_cmd,
        notify_cmds,
        readiness_cmds,
        report_cmds,
        service_cmds,
    )

    for module in (
        core,
        readiness_cmds,
        daily_cmds,
        garmin_cmds,
        invite_cmd,
        notify_cmds,
        email_cmds,
        demo_cmd,
        report_cmds,
        service_cmds,
    ):
        module.register(app)


_register_all()


def main() -> None:
    """Console-script entry point."""
    from sync.config import get_settings, warn_unknown_variables
    from sync.logging import configure_logging

    try:
        configure_logging(get_settings().log_level)
        warn_unknown_variables()  # a misspelt LEGDAY_* setting must not pass silently
        app()
    except Exception as exc:
        line = environment_problem(exc)
        if line is None:
            raise
        # A read-only database or data dir, a full disk: the user's to fix, told in one line.
        print(f"legday: {line}", file=sys.stderr)
        raise SystemExit(1) from None


def environment_problem(exc: BaseException) -> str | None:
    """One line for a failure of the machine around legday (files, disk, database), else None."""
    from sqlalchemy.exc import DatabaseError, OperationalError

    if type(exc) is DatabaseError:
        # SQLAlchemy's own class for the DB-API's plain DatabaseError: SQLite raises it for a
        # file that is not a database or whose pages are damaged (never for our own mistakes,
        # which are IntegrityError, ProgrammingError, ...).
        return damaged_database(exc)
    if isinstance(exc, OperationalError):
        detail = str(exc.orig).splitlines()[0] if exc.orig is not None else type(exc).__name__
        return f"the database refused the operation: {detail} (check the path and its permissions)"
    if isinstance(exc, PermissionError | IsADirectoryError | FileNotFoundError) or (
        isinstance(exc, OSError) and exc.errno is not None
    ):
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        return f"cannot write or read{where}: {exc.strerror or exc}"
    return None


def damaged_database(exc: BaseException) -> str:
    """One line for a database file SQLite cannot read (not a database, or damaged)."""
    from sync.config import get_settings

    orig = getattr(exc, "orig", None)
    detail = str(orig).splitlines()[0] if orig is not None else type(exc).__name__
    url = get_settings().sqlalchemy_url
    # A SQLite file is named; a server URL is not (it may carry a password).
    where = f" {url.split('///', 1)[-1]}" if url.startswith("sqlite") else ""
    return (
        f"the database{where} is damaged or not a legday database ({detail}): "
        "restore it from a backup, or move it away to start afresh"
    )
