"""The fleet-wide Garmin request budget: a token bucket in a real Redis."""

from __future__ import annotations

import uuid

import pytest
import redis

from sync.db.tx import keep_progress
from sync.garmin.budget import GlobalBudget, global_budget_from
from sync.garmin.errors import GarminUnavailable
from testkit.helpers import redis_db_url

REDIS_URL = redis_db_url(14)


@pytest.fixture
def redis_client() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL)
    client.ping()
    return client


def test_two_workers_share_one_bucket(redis_client: redis.Redis) -> None:
    key = f"legday:test:budget:{uuid.uuid4().hex}"
    waits: list[float] = []
    now = [1_000_000.0]  # the clock both workers read, moved on only by their waits

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    def clock() -> float:
        return now[0]

    worker_a = GlobalBudget(redis_client, rate_per_s=2, burst=3, key=key, sleep=sleep, clock=clock)
    worker_b = GlobalBudget(redis_client, rate_per_s=2, burst=3, key=key, sleep=sleep, clock=clock)
    worker_a.acquire()
    worker_b.acquire()
    worker_a.acquire()
    assert waits == []  # the burst is shared: three tokens in all
    worker_b.acquire()
    assert waits == [pytest.approx(0.5)]  # the fourth waits for one refill at 2 tokens/s
    now[0] += 1.0  # two tokens back
    worker_a.acquire()
    worker_b.acquire()
    assert waits == [pytest.approx(0.5)]
    worker_a.acquire()
    assert waits == [pytest.approx(0.5)] * 2
    redis_client.delete(key)


def test_an_exhausted_budget_is_a_transient_error(redis_client: redis.Redis) -> None:
    key = f"legday:test:budget:{uuid.uuid4().hex}"
    budget = GlobalBudget(redis_client, rate_per_s=0.01, burst=1, key=key, max_wait_s=1.0)
    budget.acquire()
    with pytest.raises(GarminUnavailable, match="budget"):
        budget.acquire()  # the next token is 100 s away: give up rather than block a worker
    redis_client.delete(key)


def test_client_requests_go_through_the_budget(garmin_env, redis_client: redis.Redis) -> None:  # noqa: ANN001
    settings = garmin_env.settings.model_copy(
        update={"redis_url": REDIS_URL, "garmin_global_rps": 50.0, "garmin_global_burst": 5}
    )
    budget = global_budget_from(settings)
    assert budget is not None
    redis_client.delete(budget.key)
    account = garmin_env.link(garmin_env.athlete())
    from sync.garmin_sync import open_client

    client = open_client(garmin_env.session, account, settings, checkpoint=keep_progress(garmin_env.session))
    client.profile()
    client.user_settings()
    tokens = float(redis_client.hget(budget.key, "tokens"))
    assert tokens < 5  # requests took tokens from the shared bucket
    assert global_budget_from(garmin_env.settings) is None  # no Redis configured: no budget
