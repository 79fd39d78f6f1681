"""Small pure parts of the report server: signed values, the watch advice line, the rate limiter."""

from __future__ import annotations

import uuid

import pytest

from sync.links.signing import sign, verify
from sync.readiness import DayContext, Verdict, evaluate
from sync.readiness.display import watch_advice
from sync.web.charts import band_chart, bar_chart
from sync.web.ratelimit import RateLimiter
from sync.web.watch import ADVICE_MAX, etag_matches
from testkit.helpers import redis_db_url

KEY = b"k" * 32


def test_signed_values_check_key_purpose_expiry_and_shape() -> None:
    good = sign(KEY, "link", {"a": 1}, ttl_s=60)
    assert verify(KEY, "link", good)["a"] == 1
    assert verify(b"other", "link", good) is None
    assert verify(KEY, "session", good) is None  # a link is never a cookie
    assert verify(KEY, "link", sign(KEY, "link", {"a": 1}, ttl_s=-1)) is None
    body, mac = good.split(".")
    assert verify(KEY, "link", f"{body}x.{mac}") is None
    for junk in ("", ".", "a.b.c", "é.é", "x" * 600, None):
        assert verify(KEY, "link", junk) is None


def _verdict(flag: str, codes: list[str]) -> Verdict:
    """A real verdict of each flag (soreness 0 / 5 / 8), its codes replaced by `codes`."""
    soreness = {"RUN": 0, "EASY": 5, "REST": 8}[flag]
    ctx = {
        "now": "2026-03-10T06:30:00+00:00",
        "athlete": {"max_hr": 190, "rest_hr": 50},
        "soreness": soreness,
    }
    verdict = evaluate(DayContext.model_validate(ctx))
    assert verdict.flag == flag
    return verdict.model_copy(update={"codes": codes})


@pytest.mark.parametrize("flag", ["RUN", "EASY", "REST"])
@pytest.mark.parametrize("codes", [[], ["NO_RECENT_DATA"], ["LEG_DAY", "NO_RECENT_DATA"]])
def test_advice_fits_and_says_when_data_is_missing(flag: str, codes: list[str]) -> None:
    line = watch_advice(_verdict(flag, codes))
    assert 0 < len(line) <= ADVICE_MAX
    assert ("no recent data" in line.lower()) == ("NO_RECENT_DATA" in codes)


def test_etag_matching() -> None:
    assert etag_matches('"a", W/"b"', '"b"') and etag_matches("*", '"x"')
    assert not etag_matches(None, '"x"') and not etag_matches('"y"', '"x"')


def test_rate_limit_in_process_and_in_redis() -> None:
    now = [1000.0]
    local = RateLimiter(2, clock=lambda: now[0])
    assert [local.hit("a"), local.hit("a")] == [None, None]
    assert local.hit("a") is not None and local.hit("b") is None
    now[0] += 60
    assert local.hit("a") is None
    shared = RateLimiter(1, redis_db_url(9))
    key = f"test:{uuid.uuid4().hex}"
    assert shared.hit(key) is None
    assert RateLimiter(1, redis_db_url(9)).hit(key) is not None  # another server counts too


@pytest.mark.parametrize("backend", ["process", "redis"])
def test_rate_limit_window_slides_across_minute_boundaries(backend: str) -> None:
    now = [1199.0]  # a second before a minute boundary: a fixed window would reset at 1200
    url = redis_db_url(9) if backend == "redis" else None
    limiter = RateLimiter(2, url, clock=lambda: now[0])
    key = f"test:{uuid.uuid4().hex}"
    assert limiter.hit(key) is None
    now[0] = 1230.0
    assert limiter.hit(key) is None
    now[0] = 1201.0 + 30  # across the boundary, both hits are still within the last minute
    assert limiter.hit(key) == pytest.approx(28.0)  # the first leaves the window at 1259
    now[0] = 1259.0
    assert limiter.hit(key) is None  # ... and its slot is free again
    assert limiter.hit(key) == pytest.approx(31.0)  # the 1230 hit holds the other until 1290


def test_charts_are_plain_svg_and_skip_unknown_days() -> None:
    from datetime import date, timedelta

    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(14)]
    svg = bar_chart("Sleep <h>", days, [None] * 13 + [7.5], "#000", " h", line=6.0)
    assert svg.startswith("<svg") and "&lt;h&gt;" in svg and svg.count("<rect") == 1 and "style=" not in svg
    hrv = band_chart("HRV", days, [50.0 + i for i in range(14)], (45.0, 60.0), "#0a0", " ms")
    assert hrv.count("<circle") == 14 and 'class="band"' in hrv


def test_sources_expand_ranges_and_keep_order() -> None:
    from sync.readiness.sources import expand_tags, sources_for

    assert expand_tags("S1, S4-S8") == ["S1", "S4", "S5", "S6", "S7", "S8"]
    assert [s.tag for s in sources_for(["legday guide, S1", "S1, S4-S5"])] == [
        "legday guide",
        "S1",
        "S4",
        "S5",
    ]
    assert [s.tag for s in sources_for(["seed article, S1"])] == ["legday guide", "S1"]  # stored before
    assert [s.tag for s in sources_for(["S17-S20", "S99"])] == [
        "S17",
        "S18",
        "S19",
        "S20",
    ]  # unknown: left out
    assert all(s.title for s in sources_for(["S17-S20", "S21, S22", "S28", "S29", "data check"]))


def test_the_watch_advice_follows_the_prescription() -> None:
    """No own sentences: the EASY cap comes from the prescription (never a fixed 30 min), and a
    REST of severe soreness never tells the athlete to walk ("no walking target today")."""
    easy = _verdict("EASY", ["SORE"])
    longer = easy.model_copy(
        update={"prescription": easy.prescription.model_copy(update={"max_minutes": 40})}
    )
    assert "40 min" in watch_advice(longer) and "149" not in watch_advice(longer)
    assert str(easy.prescription.hr_cap_bpm) in watch_advice(easy)
    rest = _verdict("REST", ["SORE_SEVERE"])
    assert "no walking target" in " ".join(rest.prescription.advice)
    assert "walk" not in watch_advice(rest).lower() and watch_advice(rest).startswith("REST: no run")
