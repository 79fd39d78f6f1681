"""The watch feed: a tiny JSON for a watch widget or a phone complication (< 300 bytes)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sync.readiness.display import WATCH_ADVICE_MAX, watch_advice
from sync.verdicts.announced import DayAnswer

ADVICE_MAX = WATCH_ADVICE_MAX


def watch_payload(answer: DayAnswer, timezone: str) -> dict[str, Any]:
    """`flag`, `date`, `advice`, `max_minutes`, `max_hr` (null when not capped), `updated`.

    The day's verdict (the one its morning message said, `sync.verdicts.announced`); `updated`
    is null, or the later change in the athlete's time: "updated at 09:12: REST (soreness
    8/10)". The advice is `sync.readiness.display.watch_advice`: the prescription's own answer,
    so the watch never says something the email or the page does not."""
    stored = answer.day
    p = stored.verdict.prescription
    return {
        "flag": str(stored.flag),
        "date": stored.date.isoformat(),
        "advice": watch_advice(stored.verdict),
        "max_minutes": p.max_minutes,
        "max_hr": p.hr_cap_bpm,
        "updated": answer.update_line(timezone),
    }


def watch_body(answer: DayAnswer, timezone: str) -> tuple[bytes, str]:
    """The compact JSON body and its strong ETag."""
    body = json.dumps(watch_payload(answer, timezone), separators=(",", ":"), ensure_ascii=False).encode()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names `etag` (or is `*`); weak tags compare equal."""
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags
