"""What the sandbox knows: accounts, activities seeded from FIT files, generated wellness.

Activities come from real FIT files, read with `sync.fit.decode.decode_fit` (sport, start,
duration, sets). Files can be laid onto recent days or spread over a year by shifting their
timestamps (`fitshift`), so one folder of recordings becomes any history a test needs.
Wellness days are generated deterministically from the account seed and the date.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sync.errors import FitDecodeError
from sync.sandbox.fitshift import shift_fit_days

FIRST_ACTIVITY_ID = 21_000_000_000  # real ids are ~2.1e10 (int64, > 2**31)

# FIT sport / sub-sport -> Garmin activityType (typeKey, typeId, parentTypeId)
_TYPES: dict[str, tuple[str, int, int]] = {
    "running": ("running", 1, 17),
    "treadmill": ("treadmill_running", 18, 1),
    "trail": ("trail_running", 6, 1),
    "indoor_running": ("indoor_running", 156, 1),
    "cycling": ("cycling", 2, 17),
    "indoor_cycling": ("indoor_cycling", 25, 2),
    "strength_training": ("strength_training", 13, 29),
    "training": ("fitness_equipment", 29, 17),
    "walking": ("walking", 9, 17),
    "hiking": ("hiking", 3, 17),
    "swimming": ("lap_swimming", 27, 26),
    "yoga": ("yoga", 43, 29),
}


@dataclass
class SeedSet:
    """One strength set as the watch recorded it (FIT) or the athlete corrected it (Garmin)."""

    index: int
    category: str
    exercise: str | None
    reps: int | None
    weight_kg: float | None
    duration_s: float | None
    set_type: str  # active | rest
    start: datetime | None


@dataclass
class SandboxActivity:
    """One activity as Garmin Connect holds it."""

    activity_id: int
    name: str
    type_key: str
    type_id: int
    parent_type_id: int
    start: datetime  # UTC
    duration_s: float
    distance_m: float | None
    avg_hr: int | None
    max_hr: int | None
    source_fit: bytes
    shift_days: int
    file_name: str
    sets: list[SeedSet] = field(default_factory=list)
    corrected_sets: list[SeedSet] | None = None  # what the athlete fixed in Connect
    _fit: bytes | None = field(default=None, repr=False)

    @property
    def fit(self) -> bytes:
        """The FIT bytes moved to this activity's date (computed on first download)."""
        if self._fit is None:
            self._fit = shift_fit_days(self.source_fit, self.shift_days)
        return self._fit

    @property
    def is_strength(self) -> bool:
        """Garmin has exerciseSets for this activity."""
        return self.type_key == "strength_training"

    @property
    def end(self) -> datetime:
        """Start plus duration."""
        return self.start + timedelta(seconds=self.duration_s)


@dataclass
class FitSource:
    """A decoded FIT recording that can be placed on any day."""

    name: str
    data: bytes
    start: datetime
    duration_s: float
    distance_m: float | None
    avg_hr: int | None
    max_hr: int | None
    sport: str
    sub_sport: str | None
    sets: list[SeedSet]

    @property
    def type(self) -> tuple[str, int, int]:
        """Garmin's activity type for this recording."""
        if any(s.set_type == "active" for s in self.sets) or self.sub_sport == "strength_training":
            return _TYPES["strength_training"]
        for key in (self.sub_sport or "", self.sport):
            if key in _TYPES:
                return _TYPES[key]
        return ("other", 4, 17)


_DECODED: dict[tuple[str, int, float], FitSource | None] = {}  # decoding is the slow part


def load_fit_folder(folder: Path) -> list[FitSource]:
    """Every activity FIT in `folder` (sorted by name); unreadable or non-activity files skipped."""
    out: list[FitSource] = []
    for path in sorted(Path(folder).glob("*.fit")) + sorted(Path(folder).glob("*.FIT")):
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime)
        if key not in _DECODED:
            _DECODED[key] = _load_one(path)
        loaded = _DECODED[key]
        if loaded is not None:
            out.append(loaded)
    return out


def _load_one(path: Path) -> FitSource | None:
    from sync.fit.decode import decode_fit  # the only FIT decoder in the project

    data = path.read_bytes()
    try:
        decoded = decode_fit(data)
    except FitDecodeError:
        return None
    if not decoded.sessions:
        return None
    first = decoded.sessions[0]
    sets = [
        SeedSet(s.index, s.category, s.exercise, s.reps, s.weight_kg, s.duration_s, s.set_type, s.start)
        for s in decoded.sets
    ]
    return FitSource(
        name=path.name,
        data=data,
        start=first.start,
        duration_s=sum(s.duration_s for s in decoded.sessions),
        distance_m=sum(s.distance_m or 0.0 for s in decoded.sessions) or None,
        avg_hr=first.avg_hr,
        max_hr=max((s.max_hr or 0 for s in decoded.sessions), default=0) or None,
        sport=first.sport,
        sub_sport=first.sub_sport,
        sets=sets,
    )


def place(source: FitSource, day: date, activity_id: int) -> SandboxActivity:
    """A copy of `source` moved to `day` (same UTC time of day)."""
    shift = (day - source.start.date()).days
    delta = timedelta(days=shift)
    key, type_id, parent = source.type
    sets = [
        SeedSet(
            s.index,
            s.category,
            s.exercise,
            s.reps,
            s.weight_kg,
            s.duration_s,
            s.set_type,
            s.start + delta if s.start else None,
        )
        for s in source.sets
    ]
    return SandboxActivity(
        activity_id=activity_id,
        name=key.replace("_", " ").title(),
        type_key=key,
        type_id=type_id,
        parent_type_id=parent,
        start=source.start + delta,
        duration_s=source.duration_s,
        distance_m=source.distance_m,
        avg_hr=source.avg_hr,
        max_hr=source.max_hr,
        source_fit=source.data,
        shift_days=shift,
        file_name=source.name,
        sets=sets,
    )


def _numbered(items: Iterable[tuple[FitSource, date]]) -> list[SandboxActivity]:
    placed = sorted(items, key=lambda it: (it[1], it[0].start.time(), it[0].name))
    return [place(src, day, FIRST_ACTIVITY_ID + i) for i, (src, day) in enumerate(placed)]


def layout_recent(sources: list[FitSource], last_day: date) -> list[SandboxActivity]:
    """One recording per day, in file-name order, the last one on `last_day`."""
    n = len(sources)
    return _numbered((src, last_day - timedelta(days=n - 1 - i)) for i, src in enumerate(sources))


def layout_original(sources: list[FitSource]) -> list[SandboxActivity]:
    """Every recording on its own date (no shift)."""
    return _numbered((src, src.start.date()) for src in sources)


# Mon..Sun: which kind of session a training week holds (the benchmark's year).
WEEK_PLAN = ("strength", "run", None, "run", "strength", "run", "run")


def layout_year(
    sources: list[FitSource], last_day: date, days: int = 365, plan: tuple[str | None, ...] = WEEK_PLAN
) -> list[SandboxActivity]:
    """A training history of `days` days ending `last_day`, cycling through the recordings."""
    strength = [s for s in sources if s.type[0] == "strength_training"] or sources
    runs = [s for s in sources if s.type[0] != "strength_training"] or sources
    counters = {"strength": 0, "run": 0}
    items: list[tuple[FitSource, date]] = []
    for i in range(days):
        day = last_day - timedelta(days=days - 1 - i)
        kind = plan[day.weekday()]
        if kind is None:
            continue
        pool = strength if kind == "strength" else runs
        items.append((pool[counters[kind] % len(pool)], day))
        counters[kind] += 1
    return _numbered(items)


@dataclass(frozen=True)
class WellnessValues:
    """One generated day of wellness data (None fields: not measured that day)."""

    day: date
    hrv_last_night: int | None
    hrv_weekly_avg: int | None
    hrv_status: str | None
    resting_hr: int | None
    sleep_seconds: int | None
    sleep_score: int | None
    sleep_start: datetime | None
    body_battery_high: int | None
    body_battery_low: int | None
    readiness: int | None
    readiness_level: str | None
    recovery_minutes: int | None


class WellnessGenerator:
    """Deterministic wellness days: same seed and date, same numbers, every run."""

    def __init__(self, seed: int, start: date, strength_days: set[date] | None = None) -> None:
        self.seed = seed
        self.start = start
        self.strength_days = strength_days or set()

    def _rng(self, day: date) -> random.Random:
        return random.Random(f"{self.seed}:{day.isoformat()}")

    def _worn(self, day: date) -> bool:
        # About one night in 25 without the watch: the no-data paths get exercised.
        return self._rng(day).random() > 0.04

    def _hrv(self, day: date) -> int | None:
        if not self._worn(day):
            return None
        rng = self._rng(day)
        rng.random()
        base = 48 + 5 * math.sin(day.toordinal() / 9.0) + rng.gauss(0, 3)
        if day - timedelta(days=1) in self.strength_days:
            base -= 7  # the night after leg day
        return max(15, round(base))

    def day(self, day: date, today: date) -> WellnessValues | None:
        """The values for `day`, or None outside the account's history (or in the future)."""
        if day < self.start or day > today or not self._worn(day):
            return None
        rng = self._rng(day)
        rng.random()
        rng.gauss(0, 3)
        hrv = self._hrv(day)
        week = [v for v in (self._hrv(day - timedelta(days=i)) for i in range(7)) if v is not None]
        weekly = round(sum(week) / len(week)) if week else None
        after_legs = day - timedelta(days=1) in self.strength_days
        rhr = round(50 + 2 * math.cos(day.toordinal() / 11.0) + rng.gauss(0, 1.2) + (4 if after_legs else 0))
        sleep = max(3 * 3600, int(7.2 * 3600 + rng.gauss(0, 2700)))
        score = max(20, min(98, round(45 + sleep / 3600 * 5 + rng.gauss(0, 5))))
        status = "BALANCED" if hrv is None or weekly is None or hrv >= weekly - 6 else "UNBALANCED"
        if hrv is not None and hrv < 36:
            status = "LOW"
        high = max(20, min(100, round(score * 0.9 + rng.gauss(5, 6))))
        readiness = max(1, min(100, round(score * 0.8 - (25 if after_legs else 0) + rng.gauss(5, 8))))
        level = "HIGH" if readiness >= 75 else "MODERATE" if readiness >= 50 else "LOW"
        recovery = int(max(0, (1900 if after_legs else 300) + rng.gauss(0, 200)))
        bedtime = datetime.combine(day - timedelta(days=1), datetime.min.time(), UTC) + timedelta(
            hours=22, minutes=rng.randint(0, 90)
        )
        return WellnessValues(
            day=day,
            hrv_last_night=hrv,
            hrv_weekly_avg=weekly,
            hrv_status=status if hrv else None,
            resting_hr=rhr,
            sleep_seconds=sleep,
            sleep_score=score,
            sleep_start=bedtime,
            body_battery_high=high,
            body_battery_low=max(5, high - 60 + rng.randint(0, 20)),
            readiness=readiness,
            readiness_level=level,
            recovery_minutes=recovery,
        )


def to_jsonable(value: Any) -> Any:
    """Dates and datetimes as Garmin writes them in DTOs."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0")
    if isinstance(value, date):
        return value.isoformat()
    return value
