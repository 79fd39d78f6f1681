"""The one rule for which stored verdict counts for a day (sync/verdicts/read.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sync.readiness import MODEL_VERSION
from sync.verdicts.read import counting

DAY = date(2026, 3, 10)


@dataclass
class Row:
    id: int
    model_version: str
    computed_at: datetime
    date: date = DAY
    payload: dict[str, Any] | None = None


def at(hour: int) -> datetime:
    return datetime(2026, 3, 10, hour, tzinfo=UTC)


def test_the_current_model_version_counts_even_when_an_older_one_is_newer() -> None:
    current = Row(1, MODEL_VERSION, at(6))
    older_but_later = Row(2, "0.9", at(9))  # e.g. an old worker during a rolling deploy
    assert counting([older_but_later, current]) is current


def test_without_the_current_version_the_most_recent_older_one_counts() -> None:
    first, second = Row(1, "0.8", at(6)), Row(2, "0.9", at(7))
    assert counting([second, first]) is second
    assert counting([]) is None


def test_ties_go_to_the_newer_row() -> None:
    a, b = Row(1, MODEL_VERSION, at(6)), Row(2, MODEL_VERSION, at(6))
    assert counting([b, a]) is b
