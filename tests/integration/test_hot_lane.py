"""The hot lane (sync/web/hot_routes.HotLane) answers `GET /v1/watch` and `/v1/verdicts/today`
byte for byte as FastAPI's routes do, for every kind of token and If-None-Match, over real HTTP
on SQLite and PostgreSQL; and the requests it does not take still reach FastAPI."""

from __future__ import annotations

import http.client
import json
from datetime import UTC, datetime
from urllib.parse import urlsplit

from pydantic import SecretStr

from sync.config import Settings
from sync.db.models import Athlete
from sync.db.session import session_scope
from sync.verdicts.announced import announce
from sync.verdicts.policy import record_soreness_and_recompute
from sync.verdicts.read import athlete_today, verdict_of
from sync.web.api_tokens import issue_token
from sync.web.app import create_app
from testkit.factories import make_athlete
from testkit.report_server import seed_athlete, serve

# Headers whose value differs between any two responses (the clock), compared by presence only;
# the server's own URL (in a redirect's Location) is cut out of the others.
VOLATILE = {"date"}


def _get(url: str, path: str, headers: dict[str, str], method: str = "GET") -> tuple[int, list, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request(method, path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        kept = [
            (k.lower(), "" if k.lower() in VOLATILE else v.replace(url, "")) for k, v in response.getheaders()
        ]
        return response.status, kept, body
    finally:
        conn.close()


def test_the_lane_answers_exactly_as_the_routes(db_settings: Settings) -> None:
    db_settings = db_settings.model_copy(update={"report_secret": SecretStr("hot-lane-secret")})
    ana = seed_athlete(db_settings, "ana")
    with session_scope(db_settings) as session:  # no verdict yet: 404
        newcomer = issue_token(session, make_athlete(session, "newcomer"))
    with serve(create_app(db_settings)) as lane, serve(create_app(db_settings, hot_lane=False)) as routes:
        _, _, feed = _get(lane, "/v1/watch", {"Authorization": f"Bearer {ana.token}"})
        status, headers, _ = _get(lane, "/v1/watch", {"Authorization": f"Bearer {ana.token}"})
        etag = dict(headers)["etag"]
        authorizations = [
            f"Bearer {ana.token}",
            f"bearer {ana.token}",
            f"Bearer   {ana.token}  ",
            f"Bearer {newcomer}",
            f"Bearer {ana.token}x",
            f"Basic {ana.token}",
            "Bearer",
            "Bearer ",
            "",
            "Bearer " + "x" * 200,
        ]
        cases: list[tuple[str, dict[str, str]]] = []
        for path in ("/v1/watch", "/v1/verdicts/today", "/v1/watch?unused=1"):
            cases.append((path, {}))
            cases += [(path, {"Authorization": a}) for a in authorizations]
        auth = {"Authorization": f"Bearer {ana.token}"}
        for tag in (etag, f"W/{etag}", "*", '"other"', f'"other", {etag}'):
            cases.append(("/v1/watch", {**auth, "If-None-Match": tag}))
        seen = set()
        for path, headers in cases:
            answer = _get(lane, path, headers)
            assert answer == _get(routes, path, headers), (path, headers)
            seen.add(answer[0])
        assert seen == {200, 304, 401, 404}
        assert status == 200 and b'"flag"' in feed

        # What the lane does not take goes on to FastAPI: HEAD, a trailing slash, a day.
        for method, path in (("HEAD", "/v1/watch"), ("GET", "/v1/watch/"), ("POST", "/v1/watch")):
            assert _get(lane, path, auth, method) == _get(routes, path, auth, method), (method, path)
        assert _get(lane, "/v1/verdicts/2020-01-01", auth)[0] == 404

        # The morning message said the day's verdict; a check-in then changes the flag: the feed
        # keeps the morning's flag and shows the change as its update, both ways alike.
        with session_scope(db_settings) as session:
            athlete = session.get(Athlete, ana.id)
            day = athlete_today(athlete)
            morning = verdict_of(session, ana.id, day)
            announce(session, ana.id, morning, datetime.now(UTC), via="push")
            record_soreness_and_recompute(session, athlete, day, 9, db_settings)
        status, _, body = _get(lane, "/v1/watch", auth)
        shown = json.loads(body)
        assert status == 200 and shown["flag"] == str(morning.flag) != "REST", shown
        assert shown["updated"].startswith("updated at ") and "REST" in shown["updated"], shown
        for path in ("/v1/watch", "/v1/verdicts/today"):
            assert _get(lane, path, auth) == _get(routes, path, auth), path
