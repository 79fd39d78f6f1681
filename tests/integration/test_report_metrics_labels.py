"""/metrics stays bounded whatever anyone sends: the request-latency labels take known values only
(HTTP method, route template, status class), so random methods and paths add no series."""

from __future__ import annotations

import http.client
import random
import re
import string
from urllib.parse import urlsplit

from pydantic import SecretStr

from sync.config import Settings
from sync.db.migrate import upgrade
from sync.web.app import create_app
from testkit.report_server import seed_athlete, serve

REQUESTS = 3000
# The methods of RFC 9110; anything else is counted as "other".
KNOWN_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
SERIES = re.compile(r"^legday_http_request_duration_seconds_count\{(.*)\} \S+$", re.MULTILINE)
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
TOKEN_CHARS = string.ascii_letters + "!#$%&'*+-.^_`|~"
PATH_CHARS = string.ascii_letters + string.digits + "-._~%"


def _random_request(rng: random.Random) -> tuple[str, str]:
    method = rng.choice(
        ["GET", "POST", "HEAD", "get", "".join(rng.choices(TOKEN_CHARS, k=rng.randint(1, 24)))]
    )
    tail = "".join(rng.choices(PATH_CHARS, k=rng.randint(1, 40)))
    prefix = rng.choice(["/", "/v1/", "/v1/verdicts/", "/r/", "/u/", "/metrics/", "/healthz"])
    return method, prefix + tail


def _templates(routes: list) -> set[str]:
    """Every route template of the app, inside included routers too (no prefix is used)."""
    found: set[str] = set()
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            found |= _templates(inner.routes)
        elif isinstance(getattr(route, "path", None), str):
            found.add(route.path)
    return found


def _series(text: str) -> list[dict[str, str]]:
    return [dict(LABEL.findall(labels)) for labels in SERIES.findall(text)]


def test_random_methods_and_paths_leave_metrics_bounded(settings: Settings) -> None:
    upgrade(settings)
    configured = settings.model_copy(update={"report_secret": SecretStr("metrics-labels-secret")})
    seed_athlete(configured, "ana")
    app = create_app(configured)
    templates = _templates(app.routes)
    rng = random.Random(18)
    with serve(app) as url:
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        sizes = []
        for i in range(REQUESTS):
            method, path = _random_request(rng)
            try:
                conn.request(method, path, headers={"Content-Length": "0"})
                response = conn.getresponse()
                response.read()
                if response.will_close:
                    conn.close()
            except (http.client.HTTPException, OSError):
                conn.close()  # the server may drop a connection it refused: open another
            if i in (299, REQUESTS - 1):
                conn.request("GET", "/metrics")
                response = conn.getresponse()
                sizes.append(len(response.read()))
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
        conn.close()

    series = _series(text)
    assert series, "the latency histogram was not found"
    assert all(set(s) == {"method", "route", "status"} for s in series)
    methods = {s["method"] for s in series}
    routes = {s["route"] for s in series}
    statuses = {s["status"] for s in series}
    assert methods <= set(KNOWN_METHODS) | {"other"} and "other" in methods
    assert routes <= templates | {"unmatched"} and "unmatched" in routes
    assert statuses <= {"1xx", "2xx", "3xx", "4xx", "5xx"}
    # Bounded: at most every (route, method, class) once, whatever was sent; and the 2,700
    # requests after the first 300 added no more than a handful of new series.
    assert len(series) <= (len(templates) + 1) * (len(KNOWN_METHODS) + 1) * 5
    assert sizes[1] < 2 * sizes[0] and sizes[1] < 256 * 1024, sizes
