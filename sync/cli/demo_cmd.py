"""`legday demo`: the whole path on the embedded default, against the local Garmin sandbox."""

from __future__ import annotations

import shutil
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sync.cli.common import console, fail
from sync.cli.readiness_cmds import render_verdict
from sync.config import get_settings
from sync.errors import LegdayError

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def demo_command(
    timezone: Annotated[str, typer.Option(help="The demo athlete's IANA time zone.")] = "Europe/Berlin",
    keep: Annotated[
        bool, typer.Option(help="Keep the previous demo data instead of starting afresh.")
    ] = False,
) -> None:
    """Sandbox + sample FIT files -> sync through garth -> verdict -> email in the local outbox."""
    from sync.athletes import validate_timezone
    from sync.daily import compute_verdict, verdict_time
    from sync.db.models import Athlete
    from sync.db.session import dispose_engines, session_scope
    from sync.demo import run_demo
    from sync.notify.message import add_delivery_headers, stable_message_id, unsubscribe_mailto
    from sync.notify.outbox import write_to_outbox
    from sync.notify.render import render_daily_email

    base = get_settings()
    demo_dir = base.data_dir / "demo"
    if demo_dir.exists() and not keep:
        dispose_engines()
        shutil.rmtree(demo_dir)  # the sandbox dates its samples relative to today
    settings = base.model_copy(update={"data_dir": demo_dir, "database_url": None})
    try:
        validate_timezone(timezone)
        console.print(
            f"[bold]1.[/] Garmin sandbox on loopback, seeded with {len(list(SAMPLES.glob('*.fit')))} "
            f"sample FIT files; syncing the demo athlete through garth..."
        )
        result = run_demo(settings, SAMPLES, timezone=timezone)
    except LegdayError as exc:
        raise fail(str(exc), 2) from None
    report = result.report
    console.print(
        f"   synced {report.activities_imported} activities and {result.wellness_days} wellness days "
        f"in {result.requests} Garmin requests (status {report.status})"
    )
    table = Table("date", "sport", "minutes", "leg sets", "sets from Garmin")
    for a in result.activities:
        table.add_row(
            a.local_date.isoformat(),
            a.sport,
            f"{a.duration_min:g}",
            f"{a.lower_body_sets:g}",
            str(a.garmin_sets),
        )
    console.print(table)
    if result.last_activity_date is None:
        raise fail("the sandbox served no activities", 1)
    day = result.last_activity_date + timedelta(days=1)
    console.print(f"[bold]2.[/] Verdict for {day} (the morning after the last session):")
    with session_scope(settings) as session:
        athlete = session.get(Athlete, result.athlete_id)
        assert athlete is not None
        verdict = compute_verdict(session, athlete, day)
    render_verdict(console, verdict)
    message = render_daily_email(
        verdict.to_json_dict(), to="demo@example.org", sender="legday@localhost", name="demo athlete"
    )
    add_delivery_headers(
        message,
        sent_at=verdict_time(athlete, day),
        message_id=stable_message_id(athlete.id, day, "daily", "legday@localhost"),
        unsubscribe=[unsubscribe_mailto("legday@localhost")],
    )
    path = write_to_outbox(message, settings.data_dir / "outbox")
    console.print(f"[bold]3.[/] The morning email is in {path}")
    console.print(f"   Database: {settings.sqlalchemy_url.removeprefix('sqlite:///')}")
    legday = Path(sys.argv[0]) if Path(sys.argv[0]).name == "legday" else Path("legday")
    console.print(f"   Explore it: LEGDAY_DATA_DIR={demo_dir} {legday} history --until {day}")


def register(app: typer.Typer) -> None:
    """Add `legday demo`."""
    app.command("demo")(demo_command)
