"""SQLAlchemy 2.0 typed models. Natural unique keys make every write an upsert."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from sync.db.statuses import (
    AccountStatus,
    ChannelStatus,
    DeliveryStatus,
    PushState,
    RawFileStatus,
    SyncRunStatus,
    check_sql,
)

# Named constraints so Alembic migrations are stable across SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# "Due at once, whatever the clock says": the default of the next-due columns (a new row is
# looked at by the next dispatcher tick, which then sets its real next moment).
DUE_AT_ONCE = datetime(2000, 1, 1, tzinfo=UTC)


def _due_at_once() -> datetime:
    return DUE_AT_ONCE


class Base(DeclarativeBase):
    """Declarative base with the naming convention and a JSON type for dicts/lists."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON, datetime: UTCDateTime()}


class Athlete(Base):
    """A person legday answers for."""

    __tablename__ = "athlete"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    send_time: Mapped[time] = mapped_column(Time, default=time(6, 30))
    sex: Mapped[str] = mapped_column(String(8), default="male")
    max_hr: Mapped[int | None] = mapped_column(Integer)
    rest_hr: Mapped[int | None] = mapped_column(Integer)
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    report_token_hash: Mapped[str | None] = mapped_column(String(128), unique=True, index=True)
    email_enabled: Mapped[bool] = mapped_column(default=True)
    # Opt-in: put EASY days on the athlete's Garmin calendar (docs/workouts.md).
    push_workouts: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Signed links carry it; `legday token revoke` bumps it, ending every link issued before.
    link_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When the dispatchers look at the athlete next (indexed; docs/service.md, "Due times"):
    # the morning email's next moment (its send time, a retry's backoff) and the local
    # midnight at which tomorrow's verdict is computed.
    next_send_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True, default=_due_at_once)
    next_rollover_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True, default=_due_at_once)

    accounts: Mapped[list[GarminAccount]] = relationship(back_populates="athlete")


class GarminAccount(Base):
    """An athlete's Garmin Connect tokens (encrypted) and sync state."""

    __tablename__ = "garmin_account"
    __table_args__ = (CheckConstraint(check_sql("status", AccountStatus), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    athlete_id: Mapped[int] = mapped_column(ForeignKey("athlete.id", ondelete="CASCADE"), unique=True)
    token_kind: Mapped[str] = mapped_column(String(16))  # personal_api | di | garth
    tokens_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default=AccountStatus.OK)  # AccountStatus
    status_reason: Mapped[str | None] = mapped_column(Text)
    rate_limited_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    backoff_s: Mapped[float] = mapped_column(Float, default=0.0)
    display_name: Mapped[str | None] = mapped_column(String(120))
    activity_cursor: Mapped[datetime | None] = mapped_column(UTCDateTime())
    backfill_cursor: Mapped[date | None] = mapped_column(Date)
    wellness_cursor: Mapped[date | None] = mapped_column(Date)
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the credential stops working (UTC): a Personal API key's chosen expiry; a garth
    # token's issue time plus its lifetime when known; a DI refresh token's idle limit. None:
    # not known.
    credential_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The next sync of either kind (indexed; None: none until new tokens, e.g. needs re-auth)
    # and the wellness moment still owed (at or before `next_sync_at`: that sync fetches wellness).
    next_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True, default=_due_at_once)
    next_wellness_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=_due_at_once)

    athlete: Mapped[Athlete] = relationship(back_populates="accounts")

    def __repr__(self) -> str:  # never show tokens
        return f"GarminAccount(id={self.id}, athlete_id={self.athlete_id}, kind={self.token_kind})"


class RawFile(Base):
    """Raw FIT bytes, content-addressed, kept so decoders and models can re-run offline."""

    __tablename__ = "raw_file"
    __table_args__ = (
        UniqueConstraint("athlete_id", "sha256"),
        # One recording, one stored file, whatever its bytes: enforced by the database, so two
        # imports of twin copies running at once cannot both store it (docs/decisions.md).
        UniqueConstraint("athlete_id", "recording_key"),
        CheckConstraint(check_sql("status", RawFileStatus), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    athlete_id: Mapped[int] = mapped_column(ForeignKey("athlete.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64))
    # "<first session start, unix seconds>/<sport>"; None for files without a session
    recording_key: Mapped[str | None] = mapped_column(String(80))
    size: Mapped[int] = mapped_column(Integer)
    store_path: Mapped[str] = mapped_column(String(200))  # relative to the raw store
    source: Mapped[str] = mapped_column(String(32))  # folder | zip | garmin
    original_name: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))  # RawFileStatus
    crc_ok: Mapped[bool] = mapped_column(default=True)
    file_type: Mapped[str | None] = mapped_column(String(32))
    product: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Activity(Base):
    """One session of an activity (a multisport file gives several)."""

    __tablename__ = "activity"
    __table_args__ = (
        UniqueConstraint("athlete_id", "source_id"),
        # The verdict's windows (sync/verdicts/compute.py): strength sessions by end, run load by date.
        Index("ix_activity_athlete_id_end_utc", "athlete_id", "end_utc"),
        Index("ix_activity_athlete_id_sport_local_date", "athlete_id", "sport", "local_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    athlete_id: Mapped[int] = mapped_column(ForeignKey("athlete.id", ondelete="CASCADE"))
    source_id: Mapped[str] = mapped_column(String(96))  # "<sha256>/<session index>"
    garmin_activity_id: Mapped[int | None] = mapped_column(BigInteger)
    raw_file_id: Mapped[int | None] = mapped_column(ForeignKey("raw_file.id", ondelete="SET NULL"))
    session_index: Mapped[int] = mapped_column(Integer, default=0)
    sport: Mapped[str] = mapped_column(String(48))
    sub_sport: Mapped[str | None] = mapped_column(String(48))
    start_utc: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    end_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    local_date: Mapped[date] = mapped_column(Date, index=True)
    duration_s: Mapped[float] = mapped_column(Float)
    distance_m: Mapped[float | None] = mapped_column(Float)
    avg_hr: Mapped[int | None] = mapped_column(Integer)
    max_hr: Mapped[int | None] = mapped_column(Integer)
    trimp: Mapped[float | None] = mapped_column(Float)  # Banister TRIMP, from hr_seconds
    # {"<bpm>": seconds} (sync.ingest.load): what trimp is computed from, so a new max or
    # resting HR recomputes it without decoding again; NULL for rows stored before 0012
    hr_seconds: Mapped[dict[str, float] | None] = mapped_column(JSON(none_as_null=True))
    aerobic_te: Mapped[float | None] = mapped_column(Float)
    anaerobic_te: Mapped[float | None] = mapped_column(Float)
    training_load_peak: Mapped[float | None] = mapped_column(Float)
    workout_rpe: Mapped[int | None] = mapped_column(Integer)
    workout_feel: Mapped[int | None] = mapped_column(Integer)


class StrengthSet(Base):
    """One set of a strength session."""

    __tablename__ = "strength_set"
    __table_args__ = (UniqueConstraint("activity_id", "set_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    set_index: Mapped[int] = mapped_column(Integer)
    start_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    category: Mapped[str] = mapped_column(String(48))
    category_guesses: Mapped[list[str]] = mapped_column(JSON, default=list)
    exercise: Mapped[str | None] = mapped_column(String(96))
    reps: Mapped[int | None] = mapped_column(Integer)
    weight_kg: Mapped[float | None] = mapped_column(Float)
    duration_s: Mapped[float | None] = mapped_column(Float)
    set_type: Mapped[str] = mapped_column(String(8))  # active | rest
    muscle_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    lower_body: Mapped[float] = mapped_column(Float, default=0.0)
    source: Mapped[str] = mapped_column(String(8), default="fit")  # fit | garmin


class WellnessDay(Base):
    """Garmin daily wellness for one athlete-local date."""

    __tablename__ = "wellness_day"
    __table_args__ = (UniqueConstraint("athlete_id", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    athlete_id: Mapped[int] = mapped_column(ForeignKey("athlete.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(Date)
    hrv_last_night_ms: Mapped[float | None] = mapped_column(Float)
    hrv_weekly_avg_ms: Mapped[float | None] = mapped_column(Float)
    hrv_status: Mapped[str | None] = mapped_column(String(16))
    resting_hr: Mapped[float | None] = mapped_column(Float)
    sleep_seconds: Mapped[int | None] = mapped_column(Integer)
    sleep_score: Mapped[int | None] = mapped_column(Integer)
    body_battery: Mapped[int | None] = mapped_column(Integer)
    training_readiness: Mapped[int | None] = mapped_column(Integer)
    recovery_time_h: Mapped[float | None] = mapped_column(Float)


class SorenessReport(Base):
    """The athlete's own soreness rating, 0-10, for a date."""

    __tablename__ = "soreness_report"
    __table_args__ = (UniqueConstraint("athlete_id", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    athlete_id: Mapped[int] = mapped_column(ForeignKey("athlete.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(Date)
    value: Mapped[int] = mapped_column(Integer)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime())


class VerdictRecord(Base):
    """A stored readiness verdict: recomputing the same day and model version is an upsert."""

    __tablename__ = "verdict"
    __table_args__ = (UniqueConstraint("athlete_id", "date", "model_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    athlete_id: Mapped[int] = mapped_column(ForeignKey("athlete.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(Date)
    model_version: Mapped[str] = mapped_column(String(16))
    flag: Mapped[str] = mapped_column(String(8))
    codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class VerdictMark(Base):
    """An athlete-day whose verdict must be computed (an input changed, or the day rolled over).

    Writers upsert it (bumping `version`); a dispatcher queues it when `due_at` has come and
    pushes `due_at` on while the task is queued; the computation deletes it when the version it
    read is still the row's (sync/verdicts/marks.py).
    """

    __tablename__ = "verdict_mark"
    __table_args__ = (UniqueConstraint("athlete_id", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    athlete_id: Mapped[int] = mapped_column(ForeignKey("athlete.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class EmailDelivery(Base):
    """One daily email per athlete and date; the row is inserted before sending."""

    __tablename__ = "email_delivery"
    __table_args__ = (
        UniqueConstraint("athlete_id", "date"),
        CheckConstraint(check_sql("status", DeliveryStatus), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    athlete_id: Mapped[int] = mapped_column(ForeignKey("athlete.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(Date)
    # DeliveryStatus (docs/email.md)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    message_id: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(16), default="daily", server_default="daily")  # daily | reauth
    error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class NotifyChannel(Base):
    """One push notification channel of an athlete: an Apprise URL, encrypted at rest.

    The URL holds the service's secret (a bot token, a topic, a webhook path): it is stored only
    as Fernet ciphertext (the Garmin tokens' key) and shown only redacted (sync/notify/push)."""

    __tablename__ = "notify_channel"
    __table_args__ = (CheckConstraint(check_sql("status", ChannelStatus), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    athlete_id: Mapped[int] = mapped_column(ForeignKey("athlete.id", ondelete="CASCADE"), index=True)
    url_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default=ChannelStatus.ACTIVE)  # ChannelStatus
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The next moment the channel may have a message to send (sync/notify/push/due.py); NULL
    # while paused. DUE_AT_ONCE is a wake-up no dispatcher's reschedule overwrites.
    next_push_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True, default=_due_at_once)


class ChannelDelivery(Base):
    """One push message of one kind (morning, update, paused notice) per channel and date.

    Inserted (claimed) before anything is sent, like `EmailDelivery`: its unique key decides
    which dispatcher sends (sync/notify/claims.py)."""

    __tablename__ = "channel_delivery"
    __table_args__ = (
        UniqueConstraint("channel_id", "date", "kind"),
        Index("ix_channel_delivery_athlete_id_date", "athlete_id", "date"),
        CheckConstraint(check_sql("status", DeliveryStatus), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    athlete_id: Mapped[int] = mapped_column(ForeignKey("athlete.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("notify_channel.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))  # MessageKind: morning | update | paused
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)  # DeliveryStatus
    flag: Mapped[str | None] = mapped_column(String(8))  # the flag the message said
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AnnouncedVerdict(Base):
    """The day's verdict as the first morning message (email or push) told it.

    Written once, when that message goes out, never replaced: every output shows it as the
    day's verdict and a later change as an update (sync/verdicts/announced.py)."""

    __tablename__ = "announced_verdict"
    __table_args__ = (UniqueConstraint("athlete_id", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    athlete_id: Mapped[int] = mapped_column(ForeignKey("athlete.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(Date)
    flag: Mapped[str] = mapped_column(String(8))
    model_version: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    announced_at: Mapped[datetime] = mapped_column(UTCDateTime())
    via: Mapped[str] = mapped_column(String(16))  # email | push


class PushedWorkout(Base):
    """The workout legday put on an athlete's Garmin calendar for one date, with Garmin's ids.

    One row per (athlete, date): the unique constraint and a row lock during a push are what
    keep a retry, a recomputed verdict or a second worker from creating a second workout.
    Only the ids stored here are ever deleted, so the athlete's own workouts are never touched.
    """

    __tablename__ = "pushed_workout"
    __table_args__ = (
        UniqueConstraint("athlete_id", "date"),
        CheckConstraint(check_sql("state", PushState), name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    athlete_id: Mapped[int] = mapped_column(ForeignKey("athlete.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default=PushState.PENDING)  # PushState
    flag: Mapped[str | None] = mapped_column(String(8))  # the verdict flag it follows
    name: Mapped[str | None] = mapped_column(String(120))
    plan: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # steps, as shown to people
    garmin_workout_id: Mapped[int | None] = mapped_column(BigInteger)
    garmin_schedule_id: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SyncRun(Base):
    """What ran, for whom, and how it ended."""

    __tablename__ = "sync_run"
    __table_args__ = (CheckConstraint(check_sql("status", SyncRunStatus), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    athlete_id: Mapped[int | None] = mapped_column(ForeignKey("athlete.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # import | sync | backfill
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default=SyncRunStatus.RUNNING)  # SyncRunStatus
    requests: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Quarantine(Base):
    """A file that could not be used, kept with its reason (nothing is lost)."""

    __tablename__ = "quarantine"
    __table_args__ = (UniqueConstraint("athlete_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    athlete_id: Mapped[int] = mapped_column(ForeignKey("athlete.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64))
    original_name: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    garmin_activity_id: Mapped[int | None] = mapped_column(BigInteger)  # a download that failed
    store_path: Mapped[str | None] = mapped_column(String(200))
    quarantined_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Invite(Base):
    """A used onboarding invite. Invite links are signed and carry a random nonce; the row is
    written when one is used, and the unique nonce is what makes a link single-use: of two
    concurrent posts, the database lets exactly one insert it."""

    __tablename__ = "invite"

    id: Mapped[int] = mapped_column(primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    athlete_id: Mapped[int] = mapped_column(ForeignKey("athlete.id", ondelete="CASCADE"), index=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime())
