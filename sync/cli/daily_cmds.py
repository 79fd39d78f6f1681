"""Per-athlete day commands: today's verdict, soreness, history."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import func, select

from sync.athletes import resolve_athlete
from sync.cli.common import AthleteOpt, console, db_session
from sync.cli.readiness_cmds import render_verdict
from sync.daily import RUN_SPORT, compute_verdict, record_soreness
from sync.db.models import Activity, StrengthSet, VerdictRecord, WellnessDay
from sync.scheduling import local_today

DateOpt = Annotated[str | None, typer.Option("--date", help="Local date YYYY-MM-DD (default: today).")]


def _parse_day(value: str | None, timezone: str) -> date:
    if value is None:
        return local_today(timezone)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint="--date") from None


def today_command(athlete: AthleteOpt = None, day: DateOpt = None) -> None:
    """Compute the verdict for a day from stored data, store it and show it."""
    with db_session() as (session, _):
        who = resolve_athlete(session, athlete)
        verdict = compute_verdict(session, who, _parse_day(day, who.timezone))
        render_verdict(console, verdict)


def tomorrow_command(athlete: AthleteOpt = None) -> None:
    """The evening question: should I run tomorrow? (Recomputed in the morning with the night's data.)"""
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
    """Record today's soreness (0-10)."""
    with db_session() as (session, _):
        who = resolve_athlete(session, athlete)
        the_day = _parse_day(day, who.timezone)
        record_soreness(session, who, the_day, value)
        console.print(f"soreness {value}/10 recorded for {who.name} on {the_day}")


def history_command(
    athlete: AthleteOpt = None,
    days: Annotated[int, typer.Option(min=1, max=366, help="How many days back.")] = 14,
    until: Annotated[str | None, typer.Option(help="Last date shown, YYYY-MM-DD (default: today).")] = None,
) -> None:
    """Past verdicts with leg load, run load, HRV and sleep."""
    with db_session() as (session, _):
        who = resolve_athlete(session, athlete)
        last = _parse_day(until, who.timezone)
        first = last - timedelta(days=days - 1)
        verdicts = {
            v.date: v
            for v in session.scalars(
                select(VerdictRecord)
                .where(VerdictRecord.athlete_id == who.id, VerdictRecord.date.between(first, last))
                .order_by(VerdictRecord.computed_at)
            )
        }
        wellness = {
            w.date: w
            for w in session.scalars(
                select(WellnessDay).where(
                    WellnessDay.athlete_id == who.id, WellnessDay.date.between(first, last)
                )
            )
        }
        run_load = dict(
            session.execute(
                select(Activity.local_date, func.sum(Activity.trimp))
                .where(
                    Activity.athlete_id == who.id,
                    Activity.sport == RUN_SPORT,
                    Activity.local_date.between(first, last),
                )
                .group_by(Activity.local_date)
            ).all()
        )
        leg_sets = dict(
            session.execute(
                select(Activity.local_date, func.sum(StrengthSet.lower_body))
                .join(StrengthSet, StrengthSet.activity_id == Activity.id)
                .where(
                    Activity.athlete_id == who.id,
                    Activity.local_date.between(first, last),
                    StrengthSet.set_type == "active",
                )
                .group_by(Activity.local_date)
            ).all()
        )
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
        colours = {"RUN": "green", "EASY": "yellow", "REST": "red"}
        for offset in range(days):
            d = first + timedelta(days=offset)
            v, w = verdicts.get(d), wellness.get(d)
            flag = f"[{colours.get(v.flag, 'white')}]{v.flag}[/]" if v else "-"
            table.add_row(
                d.isoformat(),
                flag,
                ", ".join(v.codes) if v else "",
                f"{leg_sets[d]:g}" if leg_sets.get(d) else "",
                f"{run_load[d]:.0f}" if run_load.get(d) else "",
                f"{w.hrv_last_night_ms:.0f}" if w and w.hrv_last_night_ms else "",
                f"{w.sleep_seconds / 3600:.1f}" if w and w.sleep_seconds else "",
            )
        console.print(table)


def register(app: typer.Typer) -> None:
    """Add the day commands to the CLI."""
    app.command("today")(today_command)
    app.command("tomorrow")(tomorrow_command)
    # "-1" must reach the range check, not be taken for an option.
    app.command("soreness", context_settings={"ignore_unknown_options": True})(soreness_command)
    app.command("history")(history_command)
