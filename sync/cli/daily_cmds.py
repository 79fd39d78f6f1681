"""Per-athlete day commands: today's verdict, soreness, history."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import typer
from rich.table import Table

from sync.cli.common import AthleteOpt, console, db_session, print_table

FIRST_YEAR, LAST_YEAR = 1900, 2999  # the dates a training log can hold
DateOpt = Annotated[str | None, typer.Option("--date", help="Local date YYYY-MM-DD (default: today).")]


def _parse_day(value: str | None, timezone: str) -> date:
    from sync.scheduling import local_today

    if value is None:
        return local_today(timezone)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint="--date") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        # Far dates overflow the look-back windows (0001-01-01 minus 60 days): one line instead.
        raise typer.BadParameter(f"{value} is outside {FIRST_YEAR}-{LAST_YEAR}", param_hint="--date")
    return day


def today_command(athlete: AthleteOpt = None, day: DateOpt = None) -> None:
    """Compute the verdict for a day from stored data, store it and show it."""
    from sync.athletes import resolve_athlete
    from sync.cli.verdict_view import render_verdict
    from sync.verdicts.compute import compute_verdict

    with db_session() as (session, _):
        who = resolve_athlete(session, athlete)
        verdict = compute_verdict(session, who, _parse_day(day, who.timezone))
        render_verdict(console, verdict)


def tomorrow_command(athlete: AthleteOpt = None) -> None:
    """The evening question: should I run tomorrow? (Recomputed in the morning with the night's data.)"""
    from sync.athletes import resolve_athlete
    from sync.cli.verdict_view import render_verdict
    from sync.scheduling import local_today
    from sync.verdicts.compute import compute_verdict

    with db_session() as (session, _):
        who = resolve_athlete(session, athlete)
        verdict = compute_verdict(session, who, local_today(who.timezone) + timedelta(days=1))
        render_verdict(console, verdict)


def soreness_command(
    value: Annotated[
        int,
        typer.Argument(min=0, max=10, help="How sore your legs are, 0 (not at all) to 10 (can barely walk)."),
    ],
    athlete: AthleteOpt = None,
    day: DateOpt = None,
) -> None:
    """Record today's soreness (0-10) and recompute the day's verdict (the watch follows)."""
    from sync.athletes import resolve_athlete
    from sync.verdicts.policy import record_soreness_and_recompute

    with db_session() as (session, settings):
        who = resolve_athlete(session, athlete)
        the_day = _parse_day(day, who.timezone)
        stored = record_soreness_and_recompute(session, who, the_day, value, settings)
        console.print(f"soreness {value}/10 recorded for {who.name} on {the_day}: {stored.flag} now")


def history_command(
    athlete: AthleteOpt = None,
    days: Annotated[int, typer.Option(min=1, max=366, help="How many days back.")] = 14,
    until: Annotated[str | None, typer.Option(help="Last date shown, YYYY-MM-DD (default: today).")] = None,
) -> None:
    """Past verdicts with leg load, run load, HRV and sleep."""
    from sync.athletes import resolve_athlete
    from sync.history import day_summaries
    from sync.readiness import Flag
    from sync.readiness.display import FLAG_TERMINAL_COLOURS
    from sync.readiness.texts import CODE_LABELS, HIDDEN_BY

    with db_session() as (session, _):
        who = resolve_athlete(session, athlete)
        last = _parse_day(until, who.timezone)
        first = last - timedelta(days=days - 1)
        table = Table(
            "date",
            "verdict",
            "reasons",
            "leg sets",
            "run load (TRIMP)",
            "HRV ms",
            "sleep h",
            title=f"{who.name}: last {days} days",
        )
        for row in day_summaries(session, who, first, last):
            flag = f"[{FLAG_TERMINAL_COLOURS[Flag(row.flag)]}]{row.flag}[/]" if row.flag else "-"
            table.add_row(
                row.day.isoformat(),
                flag,
                ", ".join(CODE_LABELS.get(c, c) for c in row.codes if HIDDEN_BY.get(c) not in row.codes),
                f"{row.leg_sets:g}" if row.leg_sets else "",
                f"{row.run_load:.0f}" if row.run_load else "",
                f"{row.hrv_ms:.0f}" if row.hrv_ms else "",
                f"{row.sleep_hours:.1f}" if row.sleep_hours else "",
            )
        print_table(table)


def register(app: typer.Typer) -> None:
    """Add the day commands to the CLI."""
    app.command("today")(today_command)
    app.command("tomorrow")(tomorrow_command)
    # "-1" must reach the range check, not be taken for an option.
    app.command("soreness", context_settings={"ignore_unknown_options": True})(soreness_command)
    app.command("history")(history_command)
