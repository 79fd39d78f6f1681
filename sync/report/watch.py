"""The watch feed: a tiny JSON for a watch widget or a phone complication (< 300 bytes)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sync.db.models import VerdictRecord

ADVICE_MAX = 60
NO_RECENT_DATA = "NO_RECENT_DATA"


def advice_line(payload: dict[str, Any]) -> str:
    """One line of at most 60 characters saying what to do; it says when data is missing."""
    flag = payload.get("flag")
    p = payload.get("prescription") or {}
    if flag == "REST":
        line = "Rest day: no run. Walk, mobility, foam roll."
    elif flag == "EASY":
        line = f"Easy run, max {p.get('max_minutes') or 30} min"
        line += f", HR under {p['hr_cap_bpm']}." if p.get("hr_cap_bpm") else ", talk pace."
    else:
        line = "Train as planned."
    if NO_RECENT_DATA in (payload.get("codes") or []):
        line = "No recent data. " + line
    return line if len(line) <= ADVICE_MAX else line[: ADVICE_MAX - 1].rstrip() + "."


def watch_payload(record: VerdictRecord) -> dict[str, Any]:
    """`flag`, `date`, `advice`, `max_minutes`, `max_hr` (null when not capped), `updated`."""
    p = record.payload.get("prescription") or {}
    return {
        "flag": record.flag,
        "date": record.date.isoformat(),
        "advice": advice_line(record.payload),
        "max_minutes": p.get("max_minutes"),
        "max_hr": p.get("hr_cap_bpm"),
        "updated": record.computed_at.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
    }


def watch_body(record: VerdictRecord) -> tuple[bytes, str]:
    """The compact JSON body and its strong ETag."""
    body = json.dumps(watch_payload(record), separators=(",", ":"), ensure_ascii=False).encode()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names `etag` (or is `*`); weak tags compare equal."""
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags
