"""Creating, finding and validating athletes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from sync.config import Settings, get_settings
from sync.db.models import DUE_AT_ONCE, Activity, Athlete
from sync.errors import ConfigError, NotFoundError
from sync.ingest.load import HR_PROFILE_FIELDS, recompute_trimp
from sync.notify.push.due import wake_athlete_channels
from sync.verdicts.marks import mark_today_and_tomorrow

SEXES = ("male", "female")
MORNING_FIELDS = ("email", "send_time", "timezone", "email_enabled")  # when the email is due
NAME_MAX = 120  # the column's length
EMAIL_MAX = 254  # RFC 5321's limit on a forward path
# local@domain.tld: no spaces, no second @, a dot in the domain. Deliverability is the mail
# server's question; this only stops typos and header tricks at the door.
_EMAIL = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\".]+$")


def validate_name(name: str) -> str:
    """The name, stripped; refuses empty, over-long or control-character names."""
    cleaned = name.strip()
    if not cleaned:
        raise ConfigError("an athlete name cannot be empty")
    if len(cleaned) > NAME_MAX:
        raise ConfigError(f"athlete name is too long ({len(cleaned)} characters; at most {NAME_MAX})")
    if any(not ch.isprintable() for ch in cleaned):
        raise ConfigError("athlete name contains control characters")
    return cleaned


def validate_email(email: str | None) -> str | None:
    """The address, stripped (None or "" for none); refuses what cannot be an address."""
    if email is None or not email.strip():
        return None
    cleaned = email.strip()
    if len(cleaned) > EMAIL_MAX or not _EMAIL.match(cleaned):
        raise ConfigError(f"{cleaned[:60]!r} is not an email address (name@example.org)")
    return cleaned


def validate_timezone(name: str) -> str:
    """Return `name` if it is an IANA time zone, else raise ConfigError."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"unknown timezone {name!r}: use an IANA name such as Europe/Berlin") from exc
    return name


def validate_heart_rates(max_hr: int | None, rest_hr: int | None) -> None:
    """Refuse heart rates that cannot be right."""
    if max_hr is not None and not 100 <= max_hr <= 240:
        raise ConfigError(f"max HR {max_hr} is out of range (100-240 bpm)")
    if rest_hr is not None and not 25 <= rest_hr <= 120:
        raise ConfigError(f"resting HR {rest_hr} is out of range (25-120 bpm)")
    if max_hr is not None and rest_hr is not None and max_hr <= rest_hr:
        raise ConfigError(f"max HR {max_hr} must be above resting HR {rest_hr}")


def validate_send_time(value: str) -> time:
    """Parse HH:MM."""
    try:
        return time.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(f"send time {value!r} is not HH:MM") from exc


def add_athlete(
    session: Session,
    name: str,
    *,
    email: str | None,
    timezone: str,
    sex: str = "male",
    max_hr: int | None = None,
    rest_hr: int | None = None,
) -> Athlete:
    """Create an athlete after checking every value."""
    name = validate_name(name)
    email = validate_email(email)
    # Names are unique regardless of case: `Ana` beside `ana` is a typo waiting to happen.
    taken = session.scalar(select(Athlete.name).where(func.lower(Athlete.name) == name.lower()))
    if taken is not None:
        raise ConfigError(f"athlete {taken!r} already exists")
    if sex not in SEXES:
        raise ConfigError(f"sex must be one of {', '.join(SEXES)}")
    validate_timezone(timezone)
    validate_heart_rates(max_hr, rest_hr)
    athlete = Athlete(
        name=name,
        email=email,
        timezone=timezone,
        sex=sex,
        max_hr=max_hr,
        rest_hr=rest_hr,
        send_time=time(6, 30),
        thresholds={},
        created_at=datetime.now(UTC),
    )
    session.add(athlete)
    session.flush()
    return athlete


def update_athlete(
    session: Session,
    athlete: Athlete,
    *,
    settings: Settings | None = None,
    now: datetime | None = None,
    **changes: object,
) -> Athlete:
    """Change fields of an athlete, validating the result as a whole (`now`: the clock).

    A new sex, max or resting HR recomputes the TRIMP of every stored activity from its
    heart-rate histogram (`sync.ingest.load.recompute_trimp`): no re-decode, no reprocess.
    """
    changes = {k: v for k, v in changes.items() if v is not None}
    if "email" in changes:
        changes["email"] = validate_email(str(changes["email"]))
    if "timezone" in changes:
        validate_timezone(str(changes["timezone"]))
    if "sex" in changes and changes["sex"] not in SEXES:
        raise ConfigError(f"sex must be one of {', '.join(SEXES)}")
    if "send_time" in changes:
        changes["send_time"] = validate_send_time(str(changes["send_time"]))
    max_hr = changes.get("max_hr", athlete.max_hr)
    rest_hr = changes.get("rest_hr", athlete.rest_hr)
    if not isinstance(max_hr, int | None) or not isinstance(rest_hr, int | None):
        raise ConfigError("heart rates are whole beats per minute")
    validate_heart_rates(max_hr, rest_hr)
    new_zone = "timezone" in changes and changes["timezone"] != athlete.timezone
    new_hr_profile = any(k in changes and changes[k] != getattr(athlete, k) for k in HR_PROFILE_FIELDS)
    new_morning = any(k in changes and changes[k] != getattr(athlete, k) for k in MORNING_FIELDS)
    for key, value in changes.items():
        setattr(athlete, key, value)
    if new_morning:
        morning_changed(athlete)
    if new_zone:
        athlete.next_rollover_at = DUE_AT_ONCE  # its midnight moved
    if new_zone:
        relocal_dates(session, athlete)
    if new_hr_profile:
        recompute_trimp(session, athlete, settings or get_settings())
    if new_hr_profile or new_zone:  # inputs of today's and tomorrow's verdicts
        session.flush()
        mark_today_and_tomorrow(session, athlete, now or datetime.now(UTC))
    session.flush()
    return athlete


def morning_changed(athlete: Athlete) -> None:
    """The athlete's address, send time, time zone or subscription changed: the email and push
    dispatchers look at them at their next tick (their stored next send moments may be late)."""
    athlete.next_send_at = DUE_AT_ONCE
    session = object_session(athlete)
    if session is not None and athlete.id is not None:
        wake_athlete_channels(session, athlete.id)


def relocal_dates(session: Session, athlete: Athlete) -> int:
    """Recompute every activity's local date in the athlete's (new) time zone."""
    tz = ZoneInfo(athlete.timezone)
    activities = session.scalars(select(Activity).where(Activity.athlete_id == athlete.id)).all()
    for activity in activities:
        activity.local_date = activity.start_utc.astimezone(tz).date()
    return len(activities)


def resolve_athlete(session: Session, name: str | None) -> Athlete:
    """The named athlete, or the only one when no name is given."""
    if name is not None:
        athlete = session.scalar(select(Athlete).where(Athlete.name == name))
        if athlete is None:
            raise NotFoundError(f"no athlete named {name!r} (see `legday athlete list`)")
        return athlete
    athletes = session.scalars(select(Athlete).limit(2)).all()
    if not athletes:
        raise NotFoundError("no athlete yet: add one with `legday athlete add NAME --timezone ZONE`")
    if len(athletes) > 1:
        raise NotFoundError("several athletes exist: say which one with --athlete NAME")
    return athletes[0]


def athlete_ids(session: Session) -> list[int]:
    """Every athlete's id, oldest first."""
    return list(session.scalars(select(Athlete.id).order_by(Athlete.id)))


def list_athletes(session: Session) -> list[Athlete]:
    """Every athlete, oldest first."""
    return list(session.scalars(select(Athlete).order_by(Athlete.id)))


def set_threshold_overrides(
    session: Session,
    athlete: Athlete,
    overrides: dict[str, str],
    deployment: Mapping[str, Any] | None,
    *,
    reset: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Store the athlete's readiness threshold overrides (`reset` drops the stored ones first).

    Validated, layered on the deployment's `deployment` overrides, before anything is stored: a
    bad value must not break tomorrow's verdict. Raises `ConfigError` with the one-line reason.
    Returns the stored overrides; today's and tomorrow's verdicts (as of `now`) are marked.
    """
    from sync.readiness import ThresholdsError, layered_thresholds

    merged = {} if reset else dict(athlete.thresholds or {})
    merged.update(overrides)
    try:
        checked = layered_thresholds(deployment, merged)
    except ThresholdsError as exc:
        raise ConfigError(str(exc)) from None
    athlete.thresholds = {k: getattr(checked, k) for k in merged}
    session.flush()
    mark_today_and_tomorrow(session, athlete, now or datetime.now(UTC))  # the verdicts' inputs changed
    return athlete.thresholds
