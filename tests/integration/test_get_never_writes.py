"""A GET never writes: every GET route of the web server, for every athlete state, leaves the
database byte-identical (row counts of every table and a checksum of every row, the verdict
table included), on SQLite and PostgreSQL.

The routes are enumerated from the FastAPI app itself, so a new GET route is covered (or this
test fails for want of a URL for it) without editing the list.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from sync.config import Settings
from sync.db.models import Athlete, Base, VerdictRecord
from sync.db.session import engine_for, session_scope
from sync.links.build import calendar_link, report_link, soreness_links, unsubscribe_link
from sync.onboarding.invites import invite_link
from sync.verdicts.compute import compute_verdict
from sync.verdicts.policy import record_soreness_and_recompute
from sync.verdicts.read import athlete_today
from sync.web.api_tokens import issue_token
from sync.web.app import create_app
from testkit import local_http
from testkit.factories import make_athlete
from testkit.report_server import seed_history, serve

STATES = ("no_verdict", "verdict", "soreness")


def get_routes(app) -> list[str]:  # noqa: ANN001 - a FastAPI app
    """Every path the app answers GET on, included routers walked."""
    paths: list[str] = []

    def walk(routes, prefix: str = "") -> None:  # noqa: ANN001
        for route in routes:
            if hasattr(route, "path"):
                if "GET" in (getattr(route, "methods", None) or ()):
                    paths.append(prefix + route.path)
            else:  # an included router
                walk(route.original_router.routes, prefix + route.include_context.prefix)

    walk(app.routes)
    return sorted(set(paths))


def snapshot(settings: Settings) -> dict[str, tuple[int, str]]:
    """Per table: its row count and a SHA-256 of all its rows in primary-key order."""
    out: dict[str, tuple[int, str]] = {}
    with engine_for(settings.sqlalchemy_url).connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            digest = hashlib.sha256(json.dumps([list(r) for r in rows], default=str).encode()).hexdigest()
            count = conn.execute(select(func.count()).select_from(table)).scalar_one()
            out[table.name] = (count, digest)
    return out


def seed(settings: Settings, state: str) -> tuple[Athlete, str]:
    """An athlete in `state`, with stored history and an API token."""
    with session_scope(settings) as session:
        athlete = make_athlete(
            session, state, email=f"{state}@example.org", timezone="Europe/Berlin", max_hr=188, rest_hr=48
        )
        seed_history(session, athlete)
        today = athlete_today(athlete)
        if state == "verdict":
            compute_verdict(session, athlete, today)
        elif state == "soreness":
            record_soreness_and_recompute(session, athlete, today, 5, settings)
        token = issue_token(session, athlete)
        session.expunge(athlete)
    return athlete, token


def urls_for(path: str, athlete: Athlete, settings: Settings) -> list[tuple[str, dict]]:
    """Valid requests (URL, query) for one GET route and one athlete; signed links where needed."""
    today = athlete_today(athlete)
    tomorrow = today + timedelta(days=1)
    if path == "/v1/verdicts/{day}":
        return [(f"/v1/verdicts/{d.isoformat()}", {}) for d in (today, tomorrow, today - timedelta(days=3))]
    if path == "/v1/verdicts":
        return [(path, {"from": (today - timedelta(days=14)).isoformat(), "to": tomorrow.isoformat()})]
    if path == "/r/{signed}":
        links = [
            report_link(athlete, settings=settings),
            report_link(athlete, day=tomorrow, settings=settings),
        ]
        links += list(soreness_links(athlete, today, settings=settings).values())
        return [(link.removeprefix(settings.report_base_url or ""), {}) for link in links]
    if path == "/u/{signed}":
        return [
            (unsubscribe_link(athlete, settings=settings).removeprefix(settings.report_base_url or ""), {})
        ]
    if path == "/c/{signed}/legday.ics":
        return [(calendar_link(athlete, settings=settings).removeprefix(settings.report_base_url or ""), {})]
    if path == "/join/{signed}":
        return [(invite_link(athlete, settings, base="").removeprefix(settings.report_base_url or ""), {})]
    assert "{" not in path, f"no URL known for the GET route {path}: add it here"
    return [(path, {})]


@pytest.fixture
def settings(db_settings: Settings) -> Iterator[Settings]:
    yield db_settings.model_copy(
        update={"report_secret": SecretStr("get-never-writes"), "report_base_url": "http://legday.test"}
    )


def test_every_get_route_leaves_the_database_byte_identical(settings: Settings) -> None:
    athletes = [seed(settings, state) for state in STATES]
    app = create_app(settings)
    routes = get_routes(app)
    assert {"/v1/verdicts/today", "/v1/watch", "/r/{signed}", "/u/{signed}", "/c/{signed}/legday.ics"} <= set(
        routes
    )
    with session_scope(settings) as session:  # the states are what they say
        counts = [
            session.scalar(
                select(func.count()).select_from(VerdictRecord).where(VerdictRecord.athlete_id == a.id)
            )
            for a, _ in athletes
        ]
    assert counts[0] == 0 and counts[1] >= 1 and counts[2] >= 1
    before = snapshot(settings)
    answered: dict[str, set[int]] = {}
    with serve(app) as base, local_http.Client(base_url=base, timeout=20) as client:
        for athlete, token in athletes:
            for path in routes:
                for url, params in urls_for(path, athlete, settings):
                    r = client.get(url, params=params, headers={"Authorization": f"Bearer {token}"})
                    assert r.status_code < 500, (url, r.status_code, r.text[:200])
                    answered.setdefault(path, set()).add(r.status_code)
                    if path.startswith("/v1/"):  # and without a token: refused, still no write
                        assert client.get(url, params=params).status_code == 401
    assert set(answered) == set(routes)
    assert snapshot(settings) == before
    # The athlete without a verdict got a 404 where the old code computed and stored one.
    assert 404 in answered["/v1/verdicts/today"] and 200 in answered["/v1/verdicts/today"]
