"""Garmin's exerciseSets (the athlete's corrections in Connect) over the FIT's guesses."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from sync.db.models import Activity, StrengthSet
from sync.db.upsert import upsert_many
from sync.fit.exercises import UNKNOWN, lower_body_weight, muscle_groups
from sync.garmin.errors import GarminBadResponse, GarminForbidden, GarminNotFound
from sync.garmin_sync.context import RunContext


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
    try:
        sets = run.client.exercise_sets(garmin_id)
    except (GarminNotFound, GarminForbidden, GarminBadResponse) as exc:
        # One activity's corrections that cannot be had (gone, not ours, junk values) never fail
        # the whole sync: the FIT's own sets stay, and the run says why.
        run.report.failures.append(f"{garmin_id}: Garmin's exercise sets not used, the FIT's kept ({exc})")
        return
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
    rows: list[dict[str, Any]] = []
    for item in sets:
        index = item.index
        listed.add(index)
        active = item.active
        category = item.category or UNKNOWN
        exercise = item.exercise
        rows.append(
            {
                "activity_id": existing.get(index, default),
                "set_index": index,
                "start_utc": item.start_utc,
                "category": category,
                "category_guesses": [g or UNKNOWN for g in item.category_guesses],
                "exercise": exercise,
                "reps": item.reps,
                "weight_kg": item.weight_kg,
                "duration_s": item.duration_s,
                "set_type": "active" if active else "rest",
                "muscle_groups": list(muscle_groups(category, exercise)) if active else [],
                "lower_body": lower_body_weight(category) if active else 0.0,
                "source": "garmin",
            }
        )
    upsert_many(session, StrengthSet, rows, ["activity_id", "set_index"])  # one statement
    run.report.garmin_sets += len(sets)
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
