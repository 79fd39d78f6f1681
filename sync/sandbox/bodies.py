"""Response bodies built from the recorded samples (templates/), filled with sandbox data.

Every body starts as a deep copy of a recorded Garmin response, so field names, nesting and
value types stay those of the real service; only values change.
"""

from __future__ import annotations

import copy
import io
import json
import zipfile
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sync.sandbox.seed import SandboxActivity, WellnessValues, to_jsonable

TEMPLATES = Path(__file__).parent / "templates"


@cache
def _load(name: str) -> Any:
    path = TEMPLATES / name
    return json.loads(path.read_text()) if name.endswith(".json") else path.read_text()


def template(name: str) -> Any:
    """A fresh copy of a recorded response."""
    return copy.deepcopy(_load(name))


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def _local_ms(dt: datetime, tz: ZoneInfo) -> int:
    # Garmin's epoch-ms *Local fields encode the wall clock as if it were UTC.
    return _ms(dt.astimezone(tz).replace(tzinfo=UTC))


def _dto_time(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.0")


def social_profile(account: Any) -> dict[str, Any]:
    """socialProfile."""
    body = template("social_profile.json")
    body.update(
        profileId=account.profile_id,
        displayName=account.display_name,
        userName=account.display_name,
        fullName=account.full_name,
        userProfileFullName=account.full_name,
    )
    return body


def user_settings(account: Any) -> dict[str, Any]:
    """user-settings."""
    body = template("user_settings.json")
    body["id"] = account.profile_id
    return body


def personal_information(account: Any) -> dict[str, Any]:
    """personal-information (not recorded: the fields GarminDB reads)."""
    return {
        "userInfo": {
            "timeZone": account.timezone,
            "locale": "en",
            "countryCode": "US",
            "email": account.email,
        },
        "biometricProfile": {"userId": account.profile_id, "weight": 83000.0, "height": 182.0},
    }


def activity_list_item(account: Any, act: SandboxActivity) -> dict[str, Any]:
    """One entry of the activity list."""
    # Strength entries carry set summaries; everything else has the run-shaped entry.
    body = template("activity_strength.json") if act.is_strength else template("activity_list.json")[0]
    tz = ZoneInfo(account.timezone)
    body.update(
        activityId=act.activity_id,
        activityName=act.name,
        startTimeLocal=act.start.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
        startTimeGMT=act.start.strftime("%Y-%m-%d %H:%M:%S"),
        distance=float(act.distance_m or 0.0),
        duration=float(act.duration_s),
        elapsedDuration=float(act.duration_s),
        movingDuration=float(act.duration_s),
        averageHR=float(act.avg_hr) if act.avg_hr else None,
        maxHR=float(act.max_hr) if act.max_hr else None,
        beginTimestamp=_ms(act.start),
        ownerId=account.profile_id,
        ownerDisplayName=account.display_name,
        ownerFullName=account.full_name,
    )
    body["activityType"].update(typeKey=act.type_key, typeId=act.type_id, parentTypeId=act.parent_type_id)
    if act.is_strength:
        sets = act.corrected_sets if act.corrected_sets is not None else act.sets
        active = [s for s in sets if s.set_type == "active"]
        body.update(
            endTimeGMT=act.end.strftime("%Y-%m-%d %H:%M:%S"),
            totalSets=len(sets),
            activeSets=len(active),
            totalReps=sum(s.reps or 0 for s in active),
        )
        summary: dict[str, dict[str, Any]] = {}
        for s in active:
            item = summary.setdefault(
                s.category.upper(),
                {
                    "category": s.category.upper(),
                    "subCategory": (s.exercise or "").upper() or None,
                    "reps": 0,
                    "volume": 0.0,
                    "duration": 0.0,
                    "sets": 0,
                    "maxWeight": 0.0,
                },
            )
            grams = (s.weight_kg or 0.0) * 1000
            item["reps"] += s.reps or 0
            item["volume"] += grams * (s.reps or 0)
            item["duration"] += (s.duration_s or 0.0) * 1000
            item["sets"] += 1
            item["maxWeight"] = max(item["maxWeight"], grams)
        body["summarizedExerciseSets"] = list(summary.values())
    return body


def activity_summary(account: Any, act: SandboxActivity) -> dict[str, Any]:
    """activity-service/activity/{id}."""
    body = template("activity_summary.json")
    tz = ZoneInfo(account.timezone)
    body.update(activityId=act.activity_id, activityName=act.name, userProfileId=account.profile_id)
    body["activityTypeDTO"].update(typeKey=act.type_key, typeId=act.type_id, parentTypeId=act.parent_type_id)
    body["timeZoneUnitDTO"].update(unitKey=account.timezone, timeZone=account.timezone)
    summary = body["summaryDTO"]
    summary.update(
        startTimeLocal=_dto_time(act.start.astimezone(tz)),
        startTimeGMT=_dto_time(act.start),
        distance=float(act.distance_m or 0.0),
        duration=float(act.duration_s),
        elapsedDuration=float(act.duration_s),
        movingDuration=float(act.duration_s),
    )
    if "averageHR" in summary:
        summary["averageHR"] = float(act.avg_hr) if act.avg_hr else None
    if "maxHR" in summary:
        summary["maxHR"] = float(act.max_hr) if act.max_hr else None
    return body


def exercise_sets(act: SandboxActivity) -> dict[str, Any]:
    """exerciseSets: the athlete's corrections when present, else the watch's sets."""
    if not act.is_strength:
        body = template("exercise_sets_non_strength.json")
        body["activityId"] = act.activity_id
        return body
    body = template("exercise_sets.json")
    active_tpl, rest_tpl = body["exerciseSets"][0], body["exerciseSets"][1]
    sets = act.corrected_sets if act.corrected_sets is not None else act.sets
    out = []
    for s in sets:
        active = s.set_type == "active"
        item = copy.deepcopy(active_tpl if active else rest_tpl)
        item.update(
            duration=float(s.duration_s or 0.0),
            repetitionCount=s.reps if active else None,
            weight=float(s.weight_kg * 1000) if s.weight_kg else (0.0 if s.weight_kg == 0 else -1.0),
            setType="ACTIVE" if active else "REST",
            startTime=_dto_time(s.start) if (active and s.start) else None,
            messageIndex=s.index,
        )
        if active:
            item["exercises"] = [
                {
                    "category": s.category.upper(),
                    "name": s.exercise.upper() if s.exercise else None,
                    "probability": 100.0,
                }
            ]
        out.append(item)
    body.update(activityId=act.activity_id, exerciseSets=out)
    return body


def fit_zip(act: SandboxActivity) -> bytes:
    """The download: a ZIP holding exactly `{id}_ACTIVITY.fit`, deflated."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{act.activity_id}_ACTIVITY.fit", act.fit)
    return buf.getvalue()


def hrv_summary(account: Any, w: WellnessValues) -> dict[str, Any]:
    """One element of hrvSummaries (also hrvSummary of the daily body)."""
    item = template("hrv_range.json")["hrvSummaries"][0]
    item.update(
        calendarDate=w.day.isoformat(),
        weeklyAvg=w.hrv_weekly_avg,
        lastNightAvg=w.hrv_last_night,
        lastNight5MinHigh=(w.hrv_last_night or 0) + 18,
        status=w.hrv_status,
        createTimeStamp=f"{w.day.isoformat()}T07:10:00.0",
    )
    return item


def hrv_day(account: Any, w: WellnessValues) -> dict[str, Any]:
    """hrv-service/hrv/{date}."""
    body = template("hrv_daily.json")
    summary = hrv_summary(account, w)
    summary.pop("createTimeStamp", None)
    body["hrvSummary"].update({k: v for k, v in summary.items() if k in body["hrvSummary"]})
    body["userProfilePk"] = account.profile_id
    start = w.sleep_start or datetime.combine(w.day, datetime.min.time(), UTC)
    reading = body["hrvReadings"][0]
    body["hrvReadings"] = [
        {
            **reading,
            "hrvValue": (w.hrv_last_night or 40) + (i % 5) - 2,
            "readingTimeGMT": _dto_time(start + timedelta(minutes=5 * i)),
            "readingTimeLocal": _dto_time(start + timedelta(minutes=5 * i)),
        }
        for i in range(12)
    ]
    end = start + timedelta(seconds=w.sleep_seconds or 0)
    for key in ("startTimestamp", "sleepStartTimestamp"):
        body[f"{key}GMT"] = body[f"{key}Local"] = _dto_time(start)
    for key in ("endTimestamp", "sleepEndTimestamp"):
        body[f"{key}GMT"] = body[f"{key}Local"] = _dto_time(end)
    return body


def sleep_day(
    account: Any, day: date, w: WellnessValues | None, *, wellness_service: bool = False
) -> dict[str, Any]:
    """dailySleepData (the null-id body when there is no sleep)."""
    tz = ZoneInfo(account.timezone)
    if w is None or w.sleep_seconds is None:
        body = template("sleep_daily_no_data.json")
        body["dailySleepDTO"].update(calendarDate=day.isoformat(), userProfilePK=account.profile_id)
        return body
    body = template("sleep_daily_wellness_service.json" if wellness_service else "sleep_daily.json")
    dto = body["dailySleepDTO"]
    start = w.sleep_start or datetime.combine(day, datetime.min.time(), UTC)
    end = start + timedelta(seconds=w.sleep_seconds)
    deep = w.sleep_seconds // 5
    rem = w.sleep_seconds // 5
    dto.update(
        id=_ms(start),
        userProfilePK=account.profile_id,
        calendarDate=day.isoformat(),
        sleepTimeSeconds=w.sleep_seconds,
        sleepStartTimestampGMT=_ms(start),
        sleepEndTimestampGMT=_ms(end),
        sleepStartTimestampLocal=_local_ms(start, tz),
        sleepEndTimestampLocal=_local_ms(end, tz),
        deepSleepSeconds=deep,
        remSleepSeconds=rem,
        lightSleepSeconds=w.sleep_seconds - deep - rem,
        awakeSleepSeconds=420,
    )
    if isinstance(dto.get("sleepScores"), dict) and "overall" in dto["sleepScores"]:
        dto["sleepScores"]["overall"]["value"] = w.sleep_score
    for key in ("sleepNeed", "nextSleepNeed"):
        if isinstance(dto.get(key), dict):
            dto[key].update(userProfilePk=account.profile_id, calendarDate=day.isoformat())
    if "restingHeartRate" in body:
        body["restingHeartRate"] = w.resting_hr
    return body


def sleep_scores(items: list[WellnessValues]) -> list[dict[str, Any]]:
    """wellness-service/stats/daily/sleep/score/{start}/{end}."""
    tpl = template("sleep_score_range.json")[0]
    return [
        {**tpl, "calendarDate": w.day.isoformat(), "value": w.sleep_score}
        for w in items
        if w.sleep_score is not None
    ]


def daily_heart_rate(account: Any, day: date, w: WellnessValues | None) -> dict[str, Any]:
    """wellness-service/wellness/dailyHeartRate (the 1970 body when nothing was recorded)."""
    if w is None:
        body = template("daily_heart_rate_no_readings.json")
        body.update(
            calendarDate=day.isoformat(),
            userProfilePK=account.profile_id,
            restingHeartRate=None,
            lastSevenDaysAvgRestingHeartRate=None,
        )
        return body
    body = template("daily_heart_rate.json")
    tz = ZoneInfo(account.timezone)
    start = datetime.combine(day, datetime.min.time(), tz).astimezone(UTC)
    body.update(
        userProfilePK=account.profile_id,
        calendarDate=day.isoformat(),
        startTimestampGMT=_dto_time(start),
        endTimestampGMT=_dto_time(start + timedelta(days=1)),
        startTimestampLocal=f"{day.isoformat()}T00:00:00.0",
        endTimestampLocal=f"{(day + timedelta(days=1)).isoformat()}T00:00:00.0",
        restingHeartRate=w.resting_hr,
        lastSevenDaysAvgRestingHeartRate=w.resting_hr,
        minHeartRate=(w.resting_hr or 50) - 3,
        maxHeartRate=(w.resting_hr or 50) + 70,
        heartRateValues=[
            [_ms(start + timedelta(hours=h)), (w.resting_hr or 50) + (h % 7) * 4] for h in range(24)
        ],
    )
    return body


def resting_hr_range(account: Any, items: list[WellnessValues], start: date, end: date) -> dict[str, Any]:
    """userstats-service resting HR range (not recorded: the shape gc and GarminDB read)."""
    return {
        "userProfileId": account.profile_id,
        "statisticsStartDate": start.isoformat(),
        "statisticsEndDate": end.isoformat(),
        "allMetrics": {
            "metricsMap": {
                "WELLNESS_RESTING_HEART_RATE": [
                    {"value": float(w.resting_hr), "calendarDate": w.day.isoformat()}
                    for w in items
                    if w.resting_hr is not None
                ]
            }
        },
        "groupedMetrics": None,
    }


def _battery_curve(account: Any, w: WellnessValues) -> list[tuple[datetime, int]]:
    tz = ZoneInfo(account.timezone)
    midnight = datetime.combine(w.day, datetime.min.time(), tz).astimezone(UTC)
    low, high = w.body_battery_low or 10, w.body_battery_high or 60
    return [
        (midnight + timedelta(hours=h), v)
        for h, v in (
            (0, low + 5),
            (3, (low + high) // 2),
            (7, high),
            (12, (high + low) // 2 + 5),
            (18, low + 10),
            (23, low),
        )
    ]


def daily_stress(account: Any, w: WellnessValues) -> dict[str, Any]:
    """wellness-service/wellness/dailyStress/{date} (stress + body battery samples)."""
    body = template("body_battery.json")
    tz = ZoneInfo(account.timezone)
    start = datetime.combine(w.day, datetime.min.time(), tz).astimezone(UTC)
    curve = _battery_curve(account, w)
    body.update(
        userProfilePK=account.profile_id,
        calendarDate=w.day.isoformat(),
        startTimestampGMT=_dto_time(start),
        endTimestampGMT=_dto_time(start + timedelta(days=1)),
        startTimestampLocal=f"{w.day.isoformat()}T00:00:00.0",
        endTimestampLocal=f"{(w.day + timedelta(days=1)).isoformat()}T00:00:00.0",
        stressValuesArray=[[_ms(t), 25] for t, _ in curve],
        bodyBatteryValuesArray=[[_ms(t), "MEASURED", v, 2.0] for t, v in curve],
    )
    return body


def body_battery_reports(account: Any, items: list[WellnessValues]) -> list[dict[str, Any]]:
    """wellness-service/wellness/bodyBattery/reports/daily."""
    tpl = template("body_battery_reports_daily.json")[0]
    out = []
    for w in items:
        tz = ZoneInfo(account.timezone)
        start = datetime.combine(w.day, datetime.min.time(), tz)
        item = copy.deepcopy(tpl)
        item.update(
            date=w.day.isoformat(),
            charged=(w.body_battery_high or 0) - (w.body_battery_low or 0),
            drained=(w.body_battery_high or 0) - (w.body_battery_low or 0),
            startTimestampGMT=start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000"),
            endTimestampGMT=(start + timedelta(days=1)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000"),
            startTimestampLocal=start.strftime("%Y-%m-%dT%H:%M:%S.000"),
            endTimestampLocal=(start + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000"),
            bodyBatteryValuesArray=[[_ms(t), v] for t, v in _battery_curve(account, w)],
        )
        out.append(item)
    return out


def body_battery_events(account: Any, w: WellnessValues) -> list[dict[str, Any]]:
    """wellness-service/wellness/bodyBattery/events/{date}: the night's sleep event."""
    body = template("body_battery_events.json")
    event = body[0]
    start = w.sleep_start or datetime.combine(w.day, datetime.min.time(), UTC)
    event["event"].update(
        eventStartTimeGmt=start.strftime("%Y-%m-%dT%H:%M:%S.000"),
        durationInMilliseconds=(w.sleep_seconds or 0) * 1000,
        bodyBatteryImpact=(w.body_battery_high or 0) - (w.body_battery_low or 0),
    )
    return body


def training_readiness(account: Any, w: WellnessValues) -> list[dict[str, Any]]:
    """metrics-service/metrics/trainingreadiness/{date}: the morning snapshot."""
    item = template("training_readiness.json")[0]
    wake = (w.sleep_start or datetime.combine(w.day, datetime.min.time(), UTC)) + timedelta(
        seconds=(w.sleep_seconds or 0) + 600
    )
    tz = ZoneInfo(account.timezone)
    item.update(
        userProfilePK=account.profile_id,
        calendarDate=w.day.isoformat(),
        timestamp=_dto_time(wake),
        timestampLocal=_dto_time(wake.astimezone(tz)),
        level=w.readiness_level,
        score=w.readiness,
        sleepScore=w.sleep_score,
        recoveryTime=w.recovery_minutes,
        hrvWeeklyAverage=w.hrv_weekly_avg,
        inputContext="AFTER_WAKEUP_RESET",
    )
    return [item]


def training_status_aggregated(account: Any, day: date) -> dict[str, Any]:
    """metrics-service/metrics/trainingstatus/aggregated/{date}."""
    body = template("training_status_aggregated.json")
    body["userId"] = account.profile_id
    return body


def daily_summary(account: Any, day: date, w: WellnessValues | None) -> dict[str, Any]:
    """usersummary-service/usersummary/daily."""
    body = template("daily_summary.json")
    body.update(userProfileId=account.profile_id, calendarDate=day.isoformat())
    if w is not None:
        body.update(
            restingHeartRate=w.resting_hr,
            bodyBatteryHighestValue=w.body_battery_high,
            bodyBatteryLowestValue=w.body_battery_low,
        )
    return body


def oauth1_preauthorized(token: str, secret: str, mfa_token: str) -> str:
    """The text/plain body of oauth-service/oauth/preauthorized."""
    return (
        f"oauth_token={token}&oauth_token_secret={secret}&mfa_token={mfa_token}"
        "&mfa_expiration_timestamp=2027-03-18 05:33:02.000"
    )


def jsonable(value: Any) -> Any:
    """Recursively convert dates for JSON."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return to_jsonable(value)
