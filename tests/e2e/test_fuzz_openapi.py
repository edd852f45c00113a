"""Schemathesis against the gateway's own OpenAPI document on the real stack, authenticated as two
different users: no server errors and no response that violates the schema, on every operation.
(``MONIQO_FUZZ_EXAMPLES`` sets the examples per operation; ``make test`` runs a bounded number.)"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tests.support.factories import user_id
from tests.support.stack import Stack

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # 500 examples per operation take minutes
MAX_EXAMPLES = int(os.environ.get("MONIQO_FUZZ_EXAMPLES", "12"))
SKIP = {("GET", "/api/v1/events")}  # an endless text/event-stream: covered by the SSE tests
# Every check but one: "schema-valid data must be accepted" cannot hold for a trading API, whose contract
# refuses schema-valid requests for business reasons with 422 (insufficient_funds, invalid_quantity, a cursor
# it never issued...). Those answers are still checked: problem+json, documented status, schema-conformant.
EXCLUDED = [positive_data_acceptance]
# The stateful run mixes in negative cases; "schema-violating data is rejected" cannot judge them here: every
# call carries the user's token (so a case meant to lack Authorization has it), and unknown query parameters
# are ignored, as FastAPI does, rather than refused. Server errors and schema conformance are still checked.
STATEFUL_EXCLUDED = [positive_data_acceptance, negative_data_rejection]


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


def test_chained_calls_survive_generated_sequences_from_one_user(stack: Stack) -> None:
    """Stateful: Schemathesis chains operations through the links it infers from the schema (a wallet's
    ``id`` from ``POST /user-wallets`` into every ``{wallet_id}`` route, an order's into ``{order_id}`` …),
    so the generated calls reach real objects instead of 404s."""
    schema = schemathesis.openapi.from_url(f"{stack.base_url}/openapi.json")
    headers = {"Authorization": f"Bearer {stack.token(user_id('fuzz-chain'))}"}
    machine = schema.as_state_machine()  # infers the links between operations, into the schema
    links = [
        f"{method.upper()} {path} -> {name}"
        for path, item in schema.raw_schema["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict)
        for response in op.get("responses", {}).values()
        for name in response.get("links", {})
    ]
    print(f"\n{len(links)} links: {links}")
    assert len(links) >= 3, "no links between operations: stateful testing would not chain anything"
    assert "POST /api/v1/user-wallets -> GetUserWallet" in links
    assert "POST /api/v1/user-wallets/{wallet_id}/orders -> GetOrder" in links

    calls: list[str] = []

    class Chained(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            calls.append(f"{case.method} {case.path}")
            return {"headers": headers, "timeout": 15}

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            case.validate_response(response, excluded_checks=STATEFUL_EXCLUDED, transport_kwargs=kwargs)

    # Hypothesis stops a run when the live server makes a sequence it already explored go another way
    # (FlakyStrategyDefinition): a limit of the tool against a stateful server, not a finding — a failed
    # check is raised as itself. So run again (fresh random sequences) until the call budget is spent.
    budget, rounds = 6 * MAX_EXAMPLES, 0
    while len(calls) < budget and rounds < 100:
        rounds += 1
        with contextlib.suppress(FlakyStrategyDefinition):
            Chained.run(
                settings=settings(
                    max_examples=MAX_EXAMPLES,
                    stateful_step_count=6,
                    phases=[Phase.generate],  # no replay or shrinking against a live server
                    deadline=None,
                    suppress_health_check=list(HealthCheck),
                    database=None,
                )
            )
    assert len(calls) >= budget, f"only {len(calls)} calls in {rounds} rounds"
    print(f"{len(calls)} chained calls over {len(set(calls))} operations")
    assert len({c.split()[0] for c in calls}) >= 3  # GET, POST, PUT/DELETE: chains, not just reads
