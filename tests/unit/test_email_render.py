"""The daily email: multipart text + HTML with the same content, written to the outbox."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy
from pathlib import Path

from sync.notify.outbox import write_to_outbox
from sync.notify.render import render_daily_email
from sync.readiness import DayContext, evaluate


def _payload(soreness: int) -> dict:
    ctx = DayContext.model_validate(
        {
            "now": datetime(2026, 3, 10, 6, 30, tzinfo=UTC).isoformat(),
            "athlete": {"sex": "male", "max_hr": 190, "rest_hr": 50},
            "soreness": soreness,
            "sleep_hours": 5.0,
        }
    )
    return evaluate(ctx).to_json_dict()


def test_email_has_same_content_in_text_and_html(tmp_path: Path) -> None:
    payload = _payload(5)
    msg = render_daily_email(payload, to="ana@example.org", sender="legday@example.org", name="Ana")
    assert msg["Subject"].startswith("legday 2026-03-10: EASY")
    assert "\n" not in msg["Subject"]
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    for reason in payload["reasons"]:
        assert reason["text"] in text
    assert "SORE" in payload["codes"] and "SLEEP_SHORT" in payload["codes"]
    assert payload["prescription"]["summary"] in text and "EASY" in html
    for advice in payload["prescription"]["advice"]:
        assert advice in text
    assert text.startswith("EASY for 2026-03-10, Ana:")  # the day it is for, never "tomorrow"
    assert text.count("Not known, so not used") == 1 and "resting_hr" not in text
    path = write_to_outbox(msg, tmp_path / "outbox")
    parsed = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert parsed["To"] == "ana@example.org" and parsed.is_multipart()


def test_rest_email_says_why() -> None:
    payload = _payload(8)
    msg = render_daily_email(payload, to="a@example.org", sender="l@example.org")
    assert payload["flag"] == "REST"
    assert payload["prescription"]["why"] in msg.get_body(("plain",)).get_content()
