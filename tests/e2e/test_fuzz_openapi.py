"""Schemathesis against the gateway's own OpenAPI document on the real stack, authenticated as two
different users: no server errors and no response that violates the schema, on every operation.
(``MONIQO_FUZZ_EXAMPLES`` sets the examples per operation; ``make test`` runs a bounded number.)"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.support.factories import user_id
from tests.support.stack import Stack

pytestmark = pytest.mark.slow
MAX_EXAMPLES = int(os.environ.get("MONIQO_FUZZ_EXAMPLES", "12"))
SKIP = {("GET", "/api/v1/events")}  # an endless text/event-stream: covered by the SSE tests
# Every check but one: "schema-valid data must be accepted" cannot hold for a trading API, whose contract
# refuses schema-valid requests for business reasons with 422 (insufficient_funds, invalid_quantity, a cursor
# it never issued...). Those answers are still checked: problem+json, documented status, schema-conformant.
EXCLUDED = [positive_data_acceptance]


def fuzz(operation: Any, headers: dict[str, str]) -> Any:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def exercise(case: Any) -> None:
        case.call_and_validate(headers=headers, timeout=15, excluded_checks=EXCLUDED)

    return exercise


def test_every_operation_survives_generated_requests_from_two_users(stack: Stack) -> None:
    schema = schemathesis.openapi.from_url(f"{stack.base_url}/openapi.json")
    users = [user_id("fuzz-a"), user_id("fuzz-b")]
    failures: dict[str, str] = {}
    covered = []
    for index, result in enumerate(schema.get_all_operations()):
        if not isinstance(result, Ok):
            failures[f"operation #{index}"] = f"the schema has an invalid operation: {result}"
            continue
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIP:
            continue
        headers = {"Authorization": f"Bearer {stack.token(users[index % 2])}"}
        try:
            fuzz(operation, headers)()
        except Exception as exc:
            failures[f"{operation.method.upper()} {operation.path}"] = str(exc)[:1500]
        covered.append(f"{operation.method.upper()} {operation.path}")
    assert len(covered) >= 20, covered
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
