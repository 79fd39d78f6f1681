"""`legday serve`, `legday token issue|revoke`, `legday report link`: the report server's commands."""

from __future__ import annotations

from typing import Annotated

import typer

from sync.cli.common import db_session, ensure_schema, fail
from sync.config import get_settings
from sync.errors import LegdayError

token_app = typer.Typer(help="API bearer tokens (one per athlete).", no_args_is_help=True)
report_app = typer.Typer(help="Links to the HTML report page and the calendar feed.", no_args_is_help=True)

AthleteName = Annotated[str, typer.Option("--athlete", help="Athlete name.")]


def serve_command(
    host: Annotated[str | None, typer.Option(help="Address (default LEGDAY_SERVE_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default LEGDAY_SERVE_PORT, 8000).")] = None,
) -> None:
    """Serve the JSON API, the HTML report and the watch feed (uvicorn, with header timeouts)."""
    from sync.web import serving
    from sync.web.app import create_app

    settings = get_settings()
    try:
        ensure_schema(settings)
        app = create_app(settings)
    except LegdayError as exc:
        raise fail(str(exc), 2) from None
    serving.run(app, settings, host=host or settings.serve_host, port=port or settings.serve_port)


def token_issue(athlete: AthleteName) -> None:
    """Issue a new API token (replacing any earlier one) and print it, alone, once."""
    from sync.athletes import resolve_athlete
    from sync.web.api_tokens import issue_token

    with db_session() as (session, _):
        token = issue_token(session, resolve_athlete(session, athlete))
    typer.echo(token)


def token_revoke(athlete: AthleteName) -> None:
    """Revoke the athlete's API token and every report/soreness link issued so far."""
    from sync.athletes import resolve_athlete
    from sync.web.api_tokens import revoke_token

    with db_session() as (session, _):
        had = revoke_token(session, resolve_athlete(session, athlete))
    ended = "report and soreness links issued so far no longer work (unsubscribe links do)"
    token = f"token of {athlete} revoked" if had else f"{athlete} had no token"
    typer.echo(f"{token}; {ended}", err=True)


def report_link_command(
    athlete: AthleteName,
    days: Annotated[int | None, typer.Option(min=1, max=366, help="Days the link stays valid.")] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="Public server URL (default: the serve address).")
    ] = None,
) -> None:
    """Print a signed link to the athlete's report page, alone on stdout."""
    from sync.athletes import resolve_athlete
    from sync.links.build import report_link

    with db_session() as (session, settings):
        who = resolve_athlete(session, athlete)
        try:
            url = report_link(who, days=days, settings=settings, base=base_url)
        except LegdayError as exc:
            raise fail(str(exc), 2) from None
    typer.echo(url)


def report_calendar_command(
    athlete: AthleteName,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="Public server URL (default: the serve address).")
    ] = None,
) -> None:
    """Print the athlete's calendar feed URL (ICS), alone on stdout: subscribe to it in any
    calendar app. Valid a year; `legday token revoke` ends it with every other link."""
    from sync.athletes import resolve_athlete
    from sync.links.build import calendar_link

    with db_session() as (session, settings):
        who = resolve_athlete(session, athlete)
        try:
            url = calendar_link(who, settings=settings, base=base_url)
        except LegdayError as exc:
            raise fail(str(exc), 2) from None
    typer.echo(url)


def register(app: typer.Typer) -> None:
    """Add the report server's commands to the CLI."""
    app.command("serve")(serve_command)
    token_app.command("issue")(token_issue)
    token_app.command("revoke")(token_revoke)
    report_app.command("link")(report_link_command)
    report_app.command("calendar")(report_calendar_command)
    app.add_typer(token_app, name="token")
    app.add_typer(report_app, name="report")
