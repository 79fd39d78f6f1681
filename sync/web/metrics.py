"""`/metrics` in the Prometheus text format: stored counts read at scrape time, request latencies.

A scrape is an entry point: it opens its own (read-only) session (sync/db/tx.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from sync.config import Settings
from sync.db.models import EmailDelivery, SyncRun, VerdictRecord
from sync.db.session import session_scope

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Every label takes a value from a short, fixed list, whatever a client sends: each new label
# value is a new series kept for the life of the process, so an unbounded one (any method
# string, any path) would let anyone grow the server's memory without limit.
KNOWN_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
OTHER_METHOD = "other"
UNMATCHED_ROUTE = "unmatched"


def method_label(method: str) -> str:
    """The request method if it is one of RFC 9110's (case matters), else "other"."""
    return method if method in KNOWN_METHODS else OTHER_METHOD


def status_label(status: int) -> str:
    """The status class: "2xx", "4xx", ... (anything outside 100-599 counts as "5xx")."""
    return f"{status // 100}xx" if 100 <= status <= 599 else "5xx"


class StoredCounts(Collector):
    """Verdicts by flag, sync runs by kind and status, email deliveries by status."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def collect(self) -> Iterator[GaugeMetricFamily]:
        verdicts = GaugeMetricFamily("legday_verdicts", "Stored verdicts by flag.", labels=["flag"])
        syncs = GaugeMetricFamily(
            "legday_sync_runs", "Sync runs by kind and status.", labels=["kind", "status"]
        )
        emails = GaugeMetricFamily("legday_email_deliveries", "Daily emails by status.", labels=["status"])
        with session_scope(self.settings) as session:
            for flag, n in session.execute(
                select(VerdictRecord.flag, func.count()).group_by(VerdictRecord.flag)
            ):
                verdicts.add_metric([flag], n)
            for kind, status, n in session.execute(
                select(SyncRun.kind, SyncRun.status, func.count()).group_by(SyncRun.kind, SyncRun.status)
            ):
                syncs.add_metric([kind, status], n)
            for status, n in session.execute(
                select(EmailDelivery.status, func.count()).group_by(EmailDelivery.status)
            ):
                emails.add_metric([status], n)
        yield from (verdicts, syncs, emails)


class Metrics:
    """One registry per application, so several apps in one process never collide."""

    def __init__(self, settings: Settings):
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "legday_http_request_duration_seconds",
            "Request latency by route template, method and status class.",
            ["route", "method", "status"],
            registry=self.registry,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        )
        self.registry.register(StoredCounts(settings))

    def observe(self, route: str | None, method: str, status: int, started: float) -> None:
        """Record one request that began at `started` (time.perf_counter).

        `route` is the matched route's template (a fixed string of the application), or None.
        """
        self.latency.labels(route or UNMATCHED_ROUTE, method_label(method), status_label(status)).observe(
            time.perf_counter() - started
        )

    def render(self) -> bytes:
        """The text exposition."""
        return generate_latest(self.registry)
