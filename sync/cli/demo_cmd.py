"""`legday demo`: the whole path on the embedded default, against the local Garmin sandbox."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from sync.cli.common import console, fail
from sync.config import get_settings
from sync.errors import LegdayError

if TYPE_CHECKING:  # annotations only; imported where used, to keep start-up light
    from sync.workouts.push import PushResult

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


DEMO_MARKER = ".legday-demo"  # the names the demo created here, one per line


def _demo_entries(demo_dir: Path) -> set[str]:
    marker = demo_dir / DEMO_MARKER
    return set(marker.read_text(encoding="utf-8").split()) if marker.is_file() else set()


def remember_demo_entries(demo_dir: Path, before: set[Path]) -> None:
    """Add what this run created in `demo_dir` to its marker, so only that is ever cleared."""
    if not demo_dir.exists():
        return
    made = {p.name for p in set(demo_dir.iterdir()) - before if p.name != DEMO_MARKER}
    names = sorted(_demo_entries(demo_dir) | made)
    (demo_dir / DEMO_MARKER).write_text("\n".join(names) + "\n", encoding="utf-8")


def clear_demo_dir(demo_dir: Path) -> None:
    """Remove what earlier demos made in `demo_dir` (listed in its marker), nothing else."""
    for name in _demo_entries(demo_dir):
        target = demo_dir / name
        if "/" in name or name in ("", ".", ".."):
            continue  # a marker edited by hand never reaches outside the folder
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
    (demo_dir / DEMO_MARKER).unlink(missing_ok=True)


def demo_command(
    timezone: Annotated[str, typer.Option(help="The demo athlete's IANA time zone.")] = "Europe/Berlin",
    keep: Annotated[
        bool, typer.Option(help="Keep the previous demo data instead of starting afresh.")
    ] = False,
) -> None:
    """Sandbox + sample FIT files -> sync through garth -> verdict -> email in the local outbox."""
    from sync.athletes import validate_timezone
    from sync.cli.verdict_view import render_verdict
    from sync.db.models import Athlete
    from sync.db.session import dispose_engines, session_scope
    from sync.demo import run_demo
    from sync.links.build import report_link
    from sync.notify.compose import daily_message
    from sync.notify.outbox import write_to_outbox
    from sync.verdicts.compute import verdict_time

    base = get_settings()
    demo_dir = base.data_dir / "demo"
    if not keep:
        dispose_engines()
        clear_demo_dir(demo_dir)  # the sandbox dates its samples relative to today
    before = set(demo_dir.iterdir()) if demo_dir.exists() else set()
    settings = base.model_copy(update={"data_dir": demo_dir, "database_url": None})
    try:
        validate_timezone(timezone)
        console.print(
            f"[bold]1.[/] Garmin sandbox on loopback, seeded with {len(list(SAMPLES.glob('*.fit')))} "
            "sample FIT files. The demo athlete connects with a (sandbox) Garmin Personal API key, "
            "the way you will connect for real: `legday athlete invite NAME` gives a link to paste "
            "the key in, or `legday garmin connect --athlete NAME`. Syncing..."
        )
        result = run_demo(settings, SAMPLES, timezone=timezone)
    except LegdayError as exc:
        raise fail(str(exc), 2) from None
    finally:
        remember_demo_entries(demo_dir, before)
    report = result.report
    ends = (
        f", the key expires {result.key_ends} (legday warns 14, 7 and 1 days before)"
        if result.key_ends
        else ""
    )
    console.print(f"   connected {result.athlete_name} with a Personal API key{ends}")
    console.print(
        f"   synced {report.activities_imported} activities and {result.wellness_days} wellness days "
        f"in {result.requests} Personal API requests (status {report.status})"
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
    if result.day is None or result.verdict is None:
        raise fail("the sandbox served no activities", 1)
    day, verdict = result.day, result.verdict
    console.print(f"[bold]2.[/] Verdict for {day} (the morning after the last session):")
    render_verdict(console, verdict)
    if result.watch_athlete:
        console.print(
            "   The Personal API is read-only: it cannot put a workout on your watch. To show that part, "
            f"a second demo athlete, {result.watch_athlete}, is on DI tokens (the Connect API), same data:"
        )
    print_push(result.push)
    with session_scope(settings) as session:
        athlete = session.get(Athlete, result.athlete_id)
        assert athlete is not None
        # The very email a real morning sends (report, soreness and unsubscribe links included),
        # written to the local outbox instead of an SMTP server.
        message = daily_message(session, athlete, day, verdict_time(athlete, day), settings)
        if not message["To"]:
            message.replace_header("To", "demo@example.org")
        link = report_link(athlete, day=day, settings=settings)
    path = write_to_outbox(message, settings.data_dir / "outbox")
    console.print(f"[bold]3.[/] The morning email is in {path}")
    console.print("   (report, soreness check-in and unsubscribe links included, as a real one)")
    legday = Path(sys.argv[0]) if Path(sys.argv[0]).name == "legday" else Path("legday")
    console.print("[bold]4.[/] The report page, its charts and the check-in: start the report server")
    console.print(f"     LEGDAY_DATA_DIR={demo_dir} {legday} serve")
    console.print("   then open this signed link (7 days; like a password: share it with care):")
    console.print(f"     {link}")
    console.print(f"   Database: {settings.sqlalchemy_url.removeprefix('sqlite:///')}")
    console.print(f"   Explore it: LEGDAY_DATA_DIR={demo_dir} {legday} history --until {day}")
    console.print(
        "   The API and the watch feed take a token: "
        f"LEGDAY_DATA_DIR={demo_dir} {legday} token issue --athlete {athlete.name}"
    )


def print_push(push: PushResult | None) -> None:
    """What the demo put on the (sandbox) watch, step by step."""
    if push is None:
        return
    if push.status in ("scheduled", "unchanged") and push.name:
        console.print(f'   On the watch: "{push.name}" on {push.day}, in the sandbox Garmin calendar:')
        for i, line in enumerate(push.steps, start=1):
            console.print(f"     {i}. {line}")
    elif push.status in ("nothing", "removed"):
        console.print("   No workout pushed: only EASY days go on the watch (RUN: your own plan stands).")
    else:
        console.print(f"   Workout push: {push.status} ({push.message or 'see the logs'})")


def register(app: typer.Typer) -> None:
    """Add `legday demo`."""
    app.command("demo")(demo_command)
