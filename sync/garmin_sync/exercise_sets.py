"""Garmin's exerciseSets (the athlete's corrections in Connect) over the FIT's guesses."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select

from sync.db.models import Activity, StrengthSet
from sync.db.upsert import upsert
from sync.fit.exercises import UNKNOWN, lower_body_weight, muscle_groups
from sync.garmin_sync.context import RunContext


def _parse_dto_utc(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.split(".")[0]).replace(tzinfo=UTC)
    except ValueError:
        return None


def has_garmin_sets(run: RunContext, activity_ids: list[int]) -> bool:
    """Whether Garmin's sets were applied to these activities already."""
    return (
        run.session.scalar(
            select(StrengthSet.id)
            .where(StrengthSet.activity_id.in_(activity_ids), StrengthSet.source == "garmin")
            .limit(1)
        )
        is not None
    )


def apply_garmin_sets(run: RunContext, garmin_id: int, activity_ids: list[int]) -> None:
    """Replace the FIT's guesses with Garmin's exerciseSets (the athlete's corrections).

    Garmin's list is the whole truth for the activity: a stored set it no longer lists
    (deleted in Connect) is removed, in the same transaction as the upserts.
    """
    session = run.session
    sets = run.client.exercise_sets(garmin_id)
    if not sets:
        return  # no list (or "no data"): keep the FIT's sets rather than erase them
    activities = session.scalars(
        select(Activity).where(Activity.id.in_(activity_ids)).order_by(Activity.session_index)
    ).all()
    existing = dict(
        session.execute(
            select(StrengthSet.set_index, StrengthSet.activity_id).where(
                StrengthSet.activity_id.in_(activity_ids)
            )
        ).all()
    )
    default = next(
        (a.id for a in activities if a.sport in ("training", "strength_training")), activities[0].id
    )
    listed: set[int] = set()
    for position, item in enumerate(sets):
        index = item.get("messageIndex")
        index = position if index is None else int(index)
        listed.add(index)
        active = str(item.get("setType", "")).upper() == "ACTIVE"
        guesses = sorted(item.get("exercises") or [], key=lambda e: -(e.get("probability") or 0))
        best = guesses[0] if guesses else {}
        category = str(best.get("category") or UNKNOWN).lower()
        exercise = str(best["name"]).lower() if best.get("name") else None
        grams = item.get("weight")
        weight_kg = (
            (grams / 1000.0 if grams > 0 else 0.0 if grams == 0 else None)
            if isinstance(grams, int | float)
            else None
        )
        upsert(
            session,
            StrengthSet,
            {
                "activity_id": existing.get(index, default),
                "set_index": index,
                "start_utc": _parse_dto_utc(item.get("startTime")),
                "category": category,
                "category_guesses": [str(g.get("category") or UNKNOWN).lower() for g in guesses],
                "exercise": exercise,
                "reps": item.get("repetitionCount"),
                "weight_kg": weight_kg,
                "duration_s": item.get("duration"),
                "set_type": "active" if active else "rest",
                "muscle_groups": list(muscle_groups(category, exercise)) if active else [],
                "lower_body": lower_body_weight(category) if active else 0.0,
                "source": "garmin",
            },
            ["activity_id", "set_index"],
        )
        run.report.garmin_sets += 1
    # Both sources: a set deleted in Connect after an earlier sync left a "garmin" row too.
    session.execute(
        delete(StrengthSet)
        .where(
            StrengthSet.activity_id.in_(activity_ids),
            StrengthSet.source.in_(("fit", "garmin")),
            StrengthSet.set_index.not_in(listed),
        )
        .execution_options(synchronize_session=False)
    )
