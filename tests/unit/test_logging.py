"""Log lines carry the ids of what is being worked on."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from sync.logging import configure_logging, log_context


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers, root.level = handlers, level


def test_records_carry_bound_ids(restore_root_logger: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO")
    log = logging.getLogger("sync.test")
    with log_context(athlete_id=3):
        with log_context(task_id="ab12"):
            log.info("inner")
        log.info("outer")
    log.info("outside")
    log.debug("too low")
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3
    assert lines[0].endswith("INFO sync.test [athlete_id=3 task_id=ab12]: inner")
    assert lines[1].endswith("INFO sync.test [athlete_id=3]: outer")
    assert lines[2].endswith("INFO sync.test: outside")
