"""Helpers for report tests: a real uvicorn server on a loopback port, seeded athletes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import uvicorn
from fastapi import FastAPI
from sqlalchemy.orm import Session

from sync.config import Settings
from sync.db.models import Athlete, WellnessDay
from sync.db.session import session_scope
from sync.verdicts.compute import compute_verdict
from sync.verdicts.read import athlete_today
from sync.web.api_tokens import issue_token
from testkit.factories import make_activity, make_athlete


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run `app` under uvicorn in a thread on a free loopback port; yields its base URL."""
    # lifespan on: the app's shutdown closes its hot-read connections (sync/web/hotread.py)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class Seeded:
    """An athlete with a token and stored data."""

    id: int
    name: str
    token: str


def seed_history(session: Session, athlete: Athlete, days: int = 20) -> None:
    """Nightly HRV and sleep, and a run every other day, up to the athlete's today."""
    today = athlete_today(athlete)
    for back in range(days):
        d = today - timedelta(days=back)
        session.add(
            WellnessDay(
                athlete_id=athlete.id,
                date=d,
                hrv_last_night_ms=55.0 + (back % 5) * 3,
                resting_hr=50.0,
                sleep_seconds=int((7 + (back % 3) * 0.5) * 3600),
            )
        )
        if back % 2 == 1:
            start = datetime.combine(d, datetime.min.time(), UTC) + timedelta(hours=8)
            run = timedelta(minutes=40)
            make_activity(session, athlete, start, duration=run, local_date=d, trimp=50.0 + back)
    session.flush()


def seed_athlete(settings: Settings, name: str, *, history: bool = True) -> Seeded:
    """Create an athlete with data, today's verdict and an API token."""
    with session_scope(settings) as session:
        athlete = make_athlete(
            session, name, email=f"{name}@example.org", timezone="Europe/Berlin", max_hr=188, rest_hr=48
        )
        if history:
            seed_history(session, athlete)
        compute_verdict(session, athlete, athlete_today(athlete))
        token = issue_token(session, athlete)
        return Seeded(athlete.id, athlete.name, token)
