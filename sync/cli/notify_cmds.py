"""`legday athlete notify add|list|test|remove|resume`: an athlete's push notification channels.

A channel is an Apprise URL (`ntfy://topic`, `tgram://token/chat`, `json://host/path`...). It
holds the service's secret: stored encrypted, shown only redacted, never echoed back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from sync.cli.common import db_session, fail, print_table
from sync.errors import LegdayError, NotFoundError, PermanentError, TransientError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

notify_app = typer.Typer(help="Push notification channels (Apprise URLs).", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="The athlete.")]
ChannelId = Annotated[int, typer.Argument(help="The channel's id (`notify list`).")]


def notify_add(
    name: Name,
    url: Annotated[str, typer.Argument(help="An Apprise URL, e.g. ntfy://my-topic (quote it).")],
) -> None:
    """Add a channel; the morning answer goes there from the athlete's next send time."""
    from sync.athletes import resolve_athlete
    from sync.notify.push.channels import add_channel

    try:
        with db_session() as (session, settings):
            info = add_channel(session, resolve_athlete(session, name).id, url, settings, datetime.now(UTC))
    except LegdayError as exc:
        raise fail(str(exc), 2) from None
    typer.echo(f"channel {info.id} of {name}: {info.shown}")


def notify_list(name: Name) -> None:
    """The athlete's channels, their URLs redacted, with their status and last message."""
    from sync.athletes import resolve_athlete
    from sync.notify.push.channels import list_channels

    try:
        with db_session() as (session, settings):
            channels = list_channels(session, resolve_athlete(session, name).id, settings)
    except LegdayError as exc:
        raise fail(str(exc), 2) from None
    if not channels:
        typer.echo(f"{name} has no notification channel", err=True)
        return
    table = Table("id", "channel", "status", "last message")
    for c in channels:
        status = str(c.status) + (f" ({c.reason})" if c.reason else "")
        table.add_row(str(c.id), c.shown, status, c.last or "-")
    print_table(table)


def notify_test(name: Name, channel: ChannelId) -> None:
    """Send a test message to one channel now (exit 3 when the service refused it)."""
    from sync.athletes import resolve_athlete
    from sync.notify.push.channels import test_channel

    with db_session() as (session, settings):
        athlete_id = resolve_athlete(session, name).id
        try:
            test_channel(session, athlete_id, channel, settings)
        except (PermanentError, TransientError) as exc:  # the service's answer, not a usage error
            if isinstance(exc, NotFoundError):
                raise
            raise fail(f"test message not delivered: {exc}", 3) from None
    typer.echo(f"test message delivered to channel {channel}")


def _change_channel(
    name: str, channel: int, change: Callable[[Session, int, int], object], done: str
) -> None:
    """Apply `change` (session, athlete id, channel id) to one channel of `name`, then say `done`."""
    from sync.athletes import resolve_athlete

    try:
        with db_session() as (session, _):
            change(session, resolve_athlete(session, name).id, channel)
    except LegdayError as exc:
        raise fail(str(exc), 2) from None
    typer.echo(f"channel {channel} of {name} {done}")


def notify_remove(name: Name, channel: ChannelId) -> None:
    """Remove one channel (its URL is deleted from the database)."""
    from sync.notify.push.channels import remove_channel

    _change_channel(name, channel, remove_channel, "removed")


def notify_resume(name: Name, channel: ChannelId) -> None:
    """Send to a paused channel again (after fixing it)."""
    from sync.notify.push.channels import resume_channel

    _change_channel(name, channel, resume_channel, "active again")


def register(app: typer.Typer) -> None:  # noqa: ARG001 - the commands hang under `legday athlete`
    """Add `legday athlete notify ...`."""
    from sync.cli.core import athlete_app

    for verb, command in (
        ("add", notify_add),
        ("list", notify_list),
        ("test", notify_test),
        ("remove", notify_remove),
        ("resume", notify_resume),
    ):
        notify_app.command(verb)(command)
    athlete_app.add_typer(notify_app, name="notify")
