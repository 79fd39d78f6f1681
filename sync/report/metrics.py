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
            "Request latency by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        )
        self.registry.register(StoredCounts(settings))

    def observe(self, route: str, method: str, status: int, started: float) -> None:
        """Record one request that began at `started` (time.perf_counter)."""
        self.latency.labels(route, method, str(status)).observe(time.perf_counter() - started)

    def render(self) -> bytes:
        """The text exposition."""
        return generate_latest(self.registry)
