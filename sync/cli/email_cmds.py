"""`legday email preview` and `legday email dispatch`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from sync.cli.common import AthleteOpt, console, db_session, ensure_schema, fail
from sync.config import get_settings

email_app = typer.Typer(help="The daily email: preview it, send what is due.", no_args_is_help=True)


@email_app.command("preview")
def preview_command(
    athlete: AthleteOpt = None,
    day: Annotated[
        str | None, typer.Option("--date", help="Local date YYYY-MM-DD (default: the next email's day).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (default: in the data dir).")
    ] = None,
) -> None:
    """Write the next daily email (or that of --date) to an .eml file; nothing is sent."""
    from sqlalchemy import select

    from sync.athletes import resolve_athlete
    from sync.db.models import EmailDelivery
    from sync.notify.compose import daily_message
    from sync.private_files import write_private
    from sync.scheduling import local_moment, local_today
    from sync.verdicts.policy import ensure_morning_verdict

    with db_session() as (session, settings):
        who = resolve_athlete(session, athlete)
        if day is None:
            the_day = local_today(who.timezone)
            sent = session.scalar(
                select(EmailDelivery.id).where(
                    EmailDelivery.athlete_id == who.id, EmailDelivery.date == the_day
                )
            )
            if sent is not None:  # today's went: the next one is tomorrow's
                the_day += timedelta(days=1)
        else:
            try:
                the_day = datetime.strptime(day, "%Y-%m-%d").date()
            except ValueError:
                raise typer.BadParameter(f"{day!r} is not a date (YYYY-MM-DD)", param_hint="--date") from None
        at = max(datetime.now(UTC), local_moment(the_day, who.send_time, who.timezone))
        ensure_morning_verdict(session, who, the_day)  # the email only reads it
        message = daily_message(session, who, the_day, at, settings)
        if not who.email:
            message.replace_header("To", "(no email address set)")
        path = out or settings.data_dir / "preview" / f"{who.name}-{the_day.isoformat()}.eml"
        write_private(path, message.as_bytes())
        console.print(f"{message['Subject']}\nwritten to {path}")


@email_app.command("dispatch")
def dispatch_command(
    now: Annotated[
        str | None, typer.Option("--now", help="Pretend it is this ISO-8601 time (default: the clock).")
    ] = None,
) -> None:
    """Send every daily email that is due; prints `sent N, already sent M, not due K, failed F`.

    `, unconfirmed U` is added when messages went out without the server's answer (never sent
    again: see `legday email status`). Exits 1 when something failed or is unconfirmed.
    """
    from sync.morning_email import dispatch_due_emails

    moment = datetime.now(UTC)
    if now is not None:
        try:
            moment = datetime.fromisoformat(now)
        except ValueError:
            raise typer.BadParameter(f"{now!r} is not an ISO-8601 time", param_hint="--now") from None
        if moment.tzinfo is None:
            raise typer.BadParameter("give a time zone, e.g. 2026-03-10T05:30:00Z", param_hint="--now")
    settings = get_settings()
    try:
        ensure_schema(settings)
        summary = dispatch_due_emails(moment, settings=settings)
    except Exception as exc:  # noqa: BLE001 - one line, not a traceback (logs have the details)
        raise fail(f"dispatch stopped: {type(exc).__name__}: {exc}", 1) from None
    print(summary.line())
    if summary.failed or summary.unconfirmed:
        raise typer.Exit(1)


@email_app.command("status")
def status_command(
    day: Annotated[
        str | None,
        typer.Option("--date", help="Only this date, YYYY-MM-DD (default: each athlete's latest)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per row, as a list.")] = False,
) -> None:
    """Each athlete's latest email delivery (or that of --date): status, attempts, reason."""
    import json

    from sync.notify.status import delivery_rows

    the_day = None
    if day is not None:
        try:
            the_day = datetime.strptime(day, "%Y-%m-%d").date()
        except ValueError:
            raise typer.BadParameter(f"{day!r} is not a date (YYYY-MM-DD)", param_hint="--date") from None
    with db_session() as (session, _):
        rows = delivery_rows(session, the_day)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    table = Table("athlete", "date", "kind", "status", "attempts", "sent at", "reason")
    for row in rows:
        table.add_row(
            row["athlete"],
            row["date"],
            row["kind"],
            row["status"],
            str(row["attempts"]),
            (row["sent_at"] or "")[:16].replace("T", " "),
            row["reason"] or "",
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add `legday email ...`."""
    app.add_typer(email_app, name="email")
