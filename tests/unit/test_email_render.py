"""The daily email: multipart text + HTML with the same content, written to the outbox."""

from __future__ import annotations

import email
import re
from datetime import UTC, date, datetime
from email import policy
from pathlib import Path

from sync.notify.message import add_delivery_headers, stable_message_id, unsubscribe_mailto
from sync.notify.outbox import write_to_outbox
from sync.notify.render import daily_subject, render_daily_email
from sync.readiness import DayContext, Verdict, evaluate


def _verdict(soreness: int) -> Verdict:
    ctx = DayContext.model_validate(
        {
            "now": datetime(2026, 3, 10, 6, 30, tzinfo=UTC).isoformat(),
            "athlete": {"sex": "male", "max_hr": 190, "rest_hr": 50},
            "soreness": soreness,
            "sleep_hours": 5.0,
        }
    )
    return evaluate(ctx)


def _payload(soreness: int) -> dict:
    return _verdict(soreness).to_json_dict()


def test_email_has_same_content_in_text_and_html(tmp_path: Path) -> None:
    payload = _payload(5)
    msg = render_daily_email(_verdict(5), to="ana@example.org", sender="legday@example.org", name="Ana")
    assert msg["Subject"] == "EASY today: 30 min easy, HR under 148 (soreness 5/10)"
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
    assert "[legday guide" not in text and "SLEEP_SHORT" not in text + html  # no raw codes or tags
    assert "Sleep last night: 5 h" in text and "Sleep last night: 5 h" in html
    path = write_to_outbox(msg, tmp_path / "outbox")
    parsed = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert parsed["To"] == "ana@example.org" and parsed.is_multipart()


def test_rest_email_says_why() -> None:
    payload = _payload(8)
    msg = render_daily_email(_verdict(8), to="a@example.org", sender="l@example.org")
    assert payload["flag"] == "REST"
    assert msg["Subject"] == "REST today: no run (soreness 8/10)"
    assert payload["prescription"]["why"] in msg.get_body(("plain",)).get_content()


def test_subject_of_a_leg_day_and_of_a_quiet_day() -> None:
    ctx = {
        "now": "2026-03-10T06:30:00+00:00",
        "athlete": {"sex": "male", "max_hr": 190, "rest_hr": 50},
        "strength": [
            {
                "end": "2026-03-09T10:30:00+00:00",
                "sets": [{"category": "squat", "reps": 8, "weight_kg": 80, "set_type": "active"}] * 8,
            }
        ],
    }
    leg = evaluate(DayContext.model_validate(ctx))
    assert daily_subject(leg) == "EASY today: 30 min easy, HR under 148 (leg day 20 h ago)"
    quiet = evaluate(DayContext.model_validate({**ctx, "strength": [], "sleep_hours": 8}))
    assert daily_subject(quiet) == "RUN today: train as planned"


def test_delivery_headers_are_stable_per_athlete_day() -> None:
    msg = render_daily_email(_verdict(2), to="a@example.org", sender="legday <legday@example.org>")
    first = stable_message_id(7, date(2026, 3, 10), "daily", "legday <legday@example.org>")
    assert first == stable_message_id(7, date(2026, 3, 10), "daily", "legday <legday@example.org>")
    assert first != stable_message_id(7, date(2026, 3, 11), "daily", "legday <legday@example.org>")
    add_delivery_headers(
        msg,
        sent_at=datetime(2026, 3, 10, 5, 30, tzinfo=UTC),
        message_id=first,
        unsubscribe=[unsubscribe_mailto("legday <legday@example.org>")],
    )
    parsed = email.message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert parsed["Message-ID"] == "<legday.daily.2026-03-10.a7@example.org>"
    assert parsed["Date"] == "Tue, 10 Mar 2026 05:30:00 +0000"
    assert parsed["List-Unsubscribe"] == "<mailto:legday@example.org?subject=unsubscribe>"


def test_numbers_are_as_precise_as_they_mean_something() -> None:
    verdict = _verdict(5)
    numbers = {
        **verdict.numbers,
        "hours_since_lb": 34.2137,
        "rhr_today": 55.6,
        "rhr_mean_30d": 50.7432,
        "acwr": 1.23456,
    }
    text = (
        render_daily_email(
            verdict.model_copy(update={"numbers": numbers}), to="a@example.org", sender="l@example.org"
        )
        .get_body(("plain",))
        .get_content()
    )
    assert "Hours since that session ended: 34 h" in text
    assert "Resting heart rate today: 56 bpm" in text and "30-day average: 51 bpm" in text
    assert "acute:chronic ratio: 1.23" in text
    assert not re.search(r"\d\.\d\d (h|bpm|ms)\b", text), text  # never "34.21 h" or "50.74 bpm"


def test_the_subject_gives_the_reason_that_decided_the_flag() -> None:
    """A REST decided by severe soreness after a leg day names the soreness, not the leg day
    (LEG_DAY comes first in the codes, but it only makes an EASY)."""
    ctx = {
        "now": "2026-03-10T06:30:00+00:00",
        "athlete": {"sex": "male", "max_hr": 190, "rest_hr": 50},
        "soreness": 8,
        "strength": [
            {
                "end": "2026-03-09T10:30:00+00:00",
                "sets": [{"category": "squat", "reps": 8, "weight_kg": 80, "set_type": "active"}] * 8,
            }
        ],
    }
    verdict = evaluate(DayContext.model_validate(ctx))
    assert verdict.flag == "REST" and verdict.codes[0] == "LEG_DAY" and "SORE_SEVERE" in verdict.codes
    assert daily_subject(verdict) == "REST today: no run (soreness 8/10)"
