"""Core commands: database, athletes, import and parse."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from sync.cli.common import AthleteOpt, console, db_session, fail, parse_overrides, print_table, progress_bar
from sync.config import get_settings
from sync.db.tx import keep_progress
from sync.errors import FitDecodeError, UnreadableInput

if TYPE_CHECKING:  # annotations only; imported where used, to keep start-up light
    from _typeshed import DataclassInstance

    from sync.fit.types import DecodedFile, TrimpAthlete


db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


class OnOff(StrEnum):
    """A switch on the command line."""

    on = "on"
    off = "off"


athlete_app = typer.Typer(help="Athletes legday answers for.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (creates the schema on a new database)."""
    from sync.db.migrate import upgrade

    settings = get_settings()
    upgrade(settings)
    console.print(f"database at head: {settings.sqlalchemy_url.split('@')[-1]}")


@athlete_app.command("add")
def athlete_add(
    name: str,
    timezone: Annotated[str, typer.Option(help="IANA time zone, e.g. Europe/Berlin.")],
    email: Annotated[str | None, typer.Option(help="Where the daily email goes.")] = None,
    sex: Annotated[str, typer.Option(help="male or female (TRIMP weighting).")] = "male",
    max_hr: Annotated[int | None, typer.Option(help="Maximum heart rate, bpm.")] = None,
    rest_hr: Annotated[int | None, typer.Option(help="Resting heart rate, bpm.")] = None,
) -> None:
    """Add an athlete."""
    from sync.athletes import add_athlete

    with db_session() as (session, _):
        athlete = add_athlete(
            session, name, email=email, timezone=timezone, sex=sex, max_hr=max_hr, rest_hr=rest_hr
        )
        console.print(f"added athlete {athlete.name} (id {athlete.id}, {athlete.timezone})")


@athlete_app.command("list")
def athlete_list() -> None:
    """List athletes."""
    from sync.athletes import list_athletes

    with db_session() as (session, _):
        table = Table("id", "name", "email", "timezone", "sex", "max HR", "rest HR", "send at")
        for a in list_athletes(session):
            table.add_row(
                str(a.id),
                a.name,
                a.email or "",
                a.timezone,
                a.sex,
                str(a.max_hr or ""),
                str(a.rest_hr or ""),
                a.send_time.strftime("%H:%M"),
            )
        print_table(table)


@athlete_app.command("set")
def athlete_set(
    name: str,
    email: Annotated[str | None, typer.Option()] = None,
    timezone: Annotated[str | None, typer.Option()] = None,
    sex: Annotated[str | None, typer.Option()] = None,
    max_hr: Annotated[int | None, typer.Option()] = None,
    rest_hr: Annotated[int | None, typer.Option()] = None,
    send_time: Annotated[str | None, typer.Option(help="Local time of the daily email, HH:MM.")] = None,
    daily_email: Annotated[
        bool | None,
        typer.Option("--daily-email/--no-daily-email", help="Send the daily email, or unsubscribe."),
    ] = None,
    threshold: Annotated[
        list[str] | None,
        typer.Option("--threshold", "-t", help="Readiness threshold override NAME=VALUE (repeatable)."),
    ] = None,
    reset_thresholds: Annotated[bool, typer.Option(help="Drop this athlete's threshold overrides.")] = False,
    push_workouts: Annotated[
        OnOff | None, typer.Option(help="Put EASY days on the Garmin calendar (docs/workouts.md).")
    ] = None,
) -> None:
    """Change an athlete's settings."""
    from sync.athletes import resolve_athlete, set_threshold_overrides, update_athlete

    with db_session() as (session, settings):
        athlete = resolve_athlete(session, name)
        if reset_thresholds or threshold:  # validated before anything is stored
            overrides = parse_overrides(threshold or [])
            set_threshold_overrides(session, athlete, overrides, settings.thresholds, reset=reset_thresholds)
        update_athlete(
            session,
            athlete,
            email=email,
            timezone=timezone,
            sex=sex,
            max_hr=max_hr,
            rest_hr=rest_hr,
            send_time=send_time,
            email_enabled=daily_email,
            push_workouts=None if push_workouts is None else push_workouts is OnOff.on,
        )
        console.print(f"updated athlete {athlete.name}")
        if push_workouts is OnOff.on:
            from sync.workouts.plan import push_impossible_line

            session.flush()
            impossible = push_impossible_line(session, athlete.id)
            if impossible:
                console.print(impossible)


def import_command(
    paths: Annotated[list[Path], typer.Argument(help="FIT files, folders or Garmin export ZIPs.")],
    athlete: AthleteOpt = None,
) -> None:
    """Import FIT files; exits 3 when something was quarantined."""
    from sync.athletes import resolve_athlete
    from sync.ingest.batch import import_paths
    from sync.verdicts.marks import mark_today_and_tomorrow

    missing = [str(p) for p in paths if not p.exists()]
    if missing:  # a typo is not a bad file: refuse before touching anything
        raise fail(f"no such file or folder: {', '.join(missing)}", 2)
    with db_session() as (session, settings):
        who = resolve_athlete(session, athlete)
        with progress_bar() as progress:
            task = progress.add_task("importing", total=None)
            summary = import_paths(
                session,
                who,
                paths,
                settings,
                on_total=lambda n: progress.update(task, total=n),
                on_file=lambda _o: progress.advance(task),
                checkpoint=keep_progress(session),
            )
        counts = summary.counts
        if counts["imported"]:  # the verdicts' inputs changed: the dispatcher recomputes them
            mark_today_and_tomorrow(session, who, datetime.now(UTC))
        for q in summary.quarantined:
            # One line per file, never wrapped: scripts read these.
            console.print(f"[yellow]quarantined[/] {q.name}: {q.reason}", highlight=False, soft_wrap=True)
        console.print(
            f"imported {counts['imported']}, already known {counts['known']}, "
            f"quarantined {counts['quarantined']}"
        )
    if summary.quarantined:
        raise typer.Exit(3)


def reprocess_command(athlete: AthleteOpt = None) -> None:
    """Decode the stored FIT files again (after a decoder upgrade or an HR profile change)."""
    from sync.athletes import resolve_athlete
    from sync.ingest.reprocess import reprocess_athlete
    from sync.verdicts.marks import mark_today_and_tomorrow

    with db_session() as (session, settings):
        who = resolve_athlete(session, athlete)
        report = reprocess_athlete(session, who, settings, checkpoint=keep_progress(session))
        if report.activities:
            mark_today_and_tomorrow(session, who, datetime.now(UTC))
        console.print(f"re-decoded {report.files} files ({report.activities} activities) for {who.name}")
        for line in report.failed or []:
            console.print(f"[yellow]failed[/] {line}", highlight=False, soft_wrap=True)
    if report.failed:
        raise typer.Exit(3)


def _plain(record: DataclassInstance) -> dict:
    """A record dataclass as JSON-ready data (datetimes as ISO strings, tuples as lists)."""
    return json.loads(json.dumps(asdict(record), default=lambda v: v.isoformat()))


def decoded_to_json(decoded: DecodedFile, profile: TrimpAthlete) -> dict:
    """The `legday parse --json` document: every decoded field, names not numbers, and each
    session's TRIMP for `profile`."""
    from sync.fit.trimp import trimp_from_seconds
    from sync.ingest.load import hr_seconds_json

    return {
        "file_type": decoded.file_type,
        "manufacturer": decoded.manufacturer,
        "product": decoded.product,
        "serial_number": decoded.serial_number,
        "crc_ok": decoded.crc_ok,
        "sessions": [
            {
                **_plain(s),
                "hr_seconds": hr_seconds_json(s.hr_seconds),
                "trimp": trimp_from_seconds(s.hr_seconds, profile),
                "end": s.end.isoformat(),
                "rpe_load": s.rpe_load,
            }
            for s in decoded.sessions
        ],
        "sets": [_plain(st) for st in decoded.sets],
        "lb_sets": decoded.lb_sets,
        "warnings": list(decoded.warnings),
    }


def parse_command(
    file: Annotated[Path, typer.Argument(help="A FIT file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Decode one FIT file and print what legday sees in it."""
    from sync.fit.decode import decode_fit
    from sync.ingest.importer import fit_limits, unusable_reason
    from sync.ingest.load import default_trimp_athlete
    from sync.ingest.reading import read_file_capped

    settings = get_settings()
    try:
        data = read_file_capped(file, settings.max_fit_bytes)
    except UnreadableInput as exc:
        raise fail(f"{file}: {exc.reason}") from None
    try:
        decoded = decode_fit(data, limits=fit_limits(settings))
    except FitDecodeError as exc:
        raise fail(f"{file}: {exc.reason}") from None
    reason = unusable_reason(data, decoded, settings)  # the same policy as `legday import`
    if reason is not None:
        raise fail(f"{file}: {reason}")
    doc = decoded_to_json(decoded, default_trimp_athlete(settings))
    if as_json:
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    console.print(
        f"[bold]{file.name}[/]: {doc['file_type']} from {doc['product']}"
        + ("" if decoded.crc_ok else " [yellow](bad CRC, data used)[/]")
    )
    for s in doc["sessions"]:
        km = f"{s['distance_m'] / 1000:.2f} km" if s["distance_m"] else "-"
        console.print(
            f"  {s['sport']}/{s['sub_sport']} at {s['start']}: {s['duration_s'] / 60:.1f} min, "
            f"{km}, HR {s['avg_hr']}/{s['max_hr']}, TRIMP {s['trimp']}"
        )
    if doc["sets"]:
        table = Table("#", "category", "exercise", "reps", "kg", "s", "type", "LB")
        for i, st in enumerate(doc["sets"]):
            table.add_row(
                str(i),
                st["category"],
                st["exercise"] or "",
                str(st["reps"] or ""),
                str(st["weight_kg"] or ""),
                f"{st['duration_s'] or 0:.0f}",
                st["set_type"],
                str(st["lower_body"]),
            )
        print_table(table)
        console.print(f"lower-body hard sets: {doc['lb_sets']}")


def register(app: typer.Typer) -> None:
    """Add the core commands to the CLI."""
    app.add_typer(db_app, name="db")
    app.add_typer(athlete_app, name="athlete")
    app.command("import")(import_command)
    app.command("parse")(parse_command)
    app.command("reprocess")(reprocess_command)
