"""`legday athlete invite NAME`: a link with which the athlete connects Garmin themselves."""

from __future__ import annotations

from typing import Annotated

import typer

from sync.cli.common import db_session, fail
from sync.errors import LegdayError


def invite_command(
    name: Annotated[str, typer.Argument(help="The athlete (added when there is none of that name).")],
    days: Annotated[int, typer.Option(min=1, max=60, help="Days the link stays valid.")] = 7,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="Public server URL (default LEGDAY_REPORT_BASE_URL).")
    ] = None,
) -> None:
    """Print a signed, expiring, single-use invite link, alone on stdout.

    Its page (served by `legday serve`) shows the athlete how to create a Garmin Personal API
    key, takes the key, their email, time zone and send time, and starts the first sync: no CLI
    and no password on their side. The link is a credential: send it to the athlete only.
    """
    from sync.onboarding.invites import issue_invite

    with db_session() as (session, settings):
        try:
            issued = issue_invite(session, name, settings, days=days, base=base_url)
        except LegdayError as exc:
            raise fail(str(exc), 2) from None
    if issued.created_athlete:
        typer.echo(
            f"added athlete {name}: time zone, email and send time are set on the invite page", err=True
        )
    typer.echo(issued.url)
    typer.echo(
        f"single use, valid until {issued.expires_at:%Y-%m-%d %H:%M} UTC; served by `legday serve`", err=True
    )


def register(app: typer.Typer) -> None:  # noqa: ARG001 - the command hangs under `legday athlete`
    """Add `legday athlete invite`."""
    from sync.cli.core import athlete_app

    athlete_app.command("invite")(invite_command)
