"""Schemathesis against /openapi.json of a running server: no input makes a server error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from pydantic import SecretStr
from schemathesis.checks import not_a_server_error

from sync.config import Settings
from sync.db.migrate import upgrade
from sync.web.app import create_app
from testkit.report_server import seed_athlete, serve

TOKEN: dict[str, str] = {}
CALLS: list[str] = []


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    data: Path = tmp_path_factory.mktemp("schema") / "data"
    configured = Settings(data_dir=data, database_url=None, redis_url=None, report_secret=SecretStr("fuzz"))
    upgrade(configured)
    TOKEN["value"] = seed_athlete(configured, "ana").token
    with serve(create_app(configured)) as url:
        yield schemathesis.openapi.from_url(f"{url}/openapi.json")


def test_no_server_errors(api_schema: schemathesis.BaseSchema) -> None:
    """Every operation, a bounded number of generated requests each, with Ana's token."""
    headers = {"Authorization": f"Bearer {TOKEN['value']}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 7
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])
            CALLS.append(case.operation.label)

        call()
    assert {op.label for op in operations} == set(CALLS)
