"""Typed records decoded from a FIT file. Plain data: no fitparse types leak out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sync.fit.exercises import hard_lower_body_sets

SetType = Literal["active", "rest"]
Sex = Literal["male", "female"]
# Seconds spent at each heart rate, as (bpm, seconds) pairs sorted by bpm: what TRIMP needs
HrSeconds = tuple[tuple[int, float], ...]


@dataclass(frozen=True)
class TrimpAthlete:
    """What TRIMP needs to know about the athlete."""

    sex: Sex = "male"
    max_hr: int = 190
    rest_hr: int = 60


@dataclass(frozen=True)
class FitLimits:
    """What one file may produce; the decoder stops with `FitDecodeError` past any of them.

    Far under the byte cap a crafted file can hold 50,000 sessions (0.95 MB) or 300,000 sets
    (6 MB), each a stored row the verdicts then read, or 4 million 2-byte records (8 MB, 19 s
    of decoding). Real files stay far below: a triathlon has about 5 sessions, a long strength
    session 100-200 sets, a day-long ultra about 250,000 data records. `records` counts data
    records (FIT's word for messages) of every kind. Settings: LEGDAY_MAX_FIT_SESSIONS,
    LEGDAY_MAX_FIT_SETS, LEGDAY_MAX_FIT_RECORDS.
    """

    sessions: int = 200
    sets: int = 3000
    records: int = 1_000_000


@dataclass(frozen=True)
class SessionRecord:
    """One FIT `session` message: a sport segment of an activity."""

    index: int
    sport: str
    sub_sport: str | None
    start: datetime  # UTC, timezone-aware
    duration_s: float  # total timer time (moving), else elapsed
    elapsed_s: float | None
    distance_m: float | None
    avg_hr: int | None
    max_hr: int | None
    # Seconds at each heart rate, the input of TRIMP (`sync.fit.trimp.trimp_from_seconds`):
    # the recorded HR series over the session, or, when it covers under half the session, the
    # session's average HR over its whole duration (one bin). None: no heart rate at all.
    hr_seconds: HrSeconds | None
    aerobic_te: float | None
    anaerobic_te: float | None
    training_load_peak: float | None = None  # field 168, Garmin's load for the activity
    workout_feel: int | None = None  # field 192, 0-100
    workout_rpe: int | None = None  # field 193, 0-100 (x10 of RPE 0-10)
    time_in_zone_s: tuple[float, ...] | None = None  # from message 216, HR zones

    @property
    def end(self) -> datetime:
        """When the session ended (start + elapsed, falling back to timer time)."""
        from datetime import timedelta

        return self.start + timedelta(seconds=self.elapsed_s or self.duration_s or 0.0)

    @property
    def rpe_load(self) -> float | None:
        """Foster session-RPE load (RPE 0-10 x minutes), when the athlete rated it."""
        if self.workout_rpe is None:
            return None
        return round(self.workout_rpe / 10.0 * self.duration_s / 60.0, 1)


@dataclass(frozen=True)
class SetRecord:
    """One FIT `set` message (strength training)."""

    index: int
    session_index: int
    start: datetime | None
    category: str  # first guess name, "unknown" when 65534/absent
    category_guesses: tuple[str, ...]  # every ranked guess, names
    exercise: str | None  # exercise name within the category, when decodable
    reps: int | None
    weight_kg: float | None
    duration_s: float | None
    set_type: SetType
    muscle_groups: tuple[str, ...] = ()
    lower_body: float = 0.0  # 1, 0.5 or 0 (only meaningful for active sets)


@dataclass(frozen=True)
class DecodedFile:
    """Everything legday keeps from one FIT file."""

    file_type: str
    manufacturer: str | None
    product: str | None
    serial_number: int | None
    time_created: datetime | None
    sessions: tuple[SessionRecord, ...] = ()
    sets: tuple[SetRecord, ...] = ()
    crc_ok: bool = True
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def lb_sets(self) -> float:
        """Lower-body hard sets (active sets; total_body counts half)."""
        return hard_lower_body_sets((s.category, s.set_type == "active") for s in self.sets)
