"""Every subject is a valid NATS subject; every error code of CONTRACT.md exists and has a status."""

from __future__ import annotations

import re

import pytest

from contracts.errors import HTTP_STATUS, TITLES, ErrorCode
from contracts.subjects import (
    EVENTS_WILDCARD,
    EventType,
    QueueGroup,
    all_subjects,
    event_filter,
    event_subject,
)

_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")


def is_valid_subject(subject: str) -> bool:
    """NATS rules: dot-separated non-empty tokens without whitespace; ``*`` a whole token; ``>`` last only."""
    tokens = subject.split(".")
    for position, token in enumerate(tokens):
        if token == ">":
            if position != len(tokens) - 1:
                return False
        elif token != "*" and not _TOKEN.fullmatch(token):
            return False
    return True


@pytest.mark.parametrize("subject", all_subjects())
def test_every_subject_is_valid(subject: str) -> None:
    assert is_valid_subject(subject), subject


@pytest.mark.parametrize("bad", ["a..b", "a.>.b", "a b", "", "a.*x"])
def test_subject_checker_rejects_invalid_subjects(bad: str) -> None:
    assert not is_valid_subject(bad)


@pytest.mark.parametrize("event_type", list(EventType))
def test_event_subject_has_type_then_wallet_id_last(event_type: EventType) -> None:
    subject = event_subject(event_type, "6650c0ffee00000000000001")
    assert subject == f"evt.{event_type.value}.6650c0ffee00000000000001"
    assert is_valid_subject(subject)
    assert is_valid_subject(event_filter(event_type))
    assert subject.startswith(EVENTS_WILDCARD[:-1])


def test_queue_group_names_are_valid_tokens() -> None:
    assert all(_TOKEN.fullmatch(q.value) for q in QueueGroup)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("insufficient_funds", 422),
        ("wallet_not_found", 404),
        ("duplicate_name", 409),
        ("invalid_quantity", 422),
        ("risk_limit_exceeded", 422),
        ("service_unavailable", 503),
        ("invalid_price", 422),
        ("unknown_symbol", 422),
        ("below_min_notional", 422),
        ("duplicate_client_order_id", 409),
        ("order_not_open", 409),
        ("no_market_price", 422),
        ("not_supported", 422),
    ],
)
def test_contract_error_codes_exist_with_their_status(code: str, status: int) -> None:
    assert HTTP_STATUS[ErrorCode(code)] == status


def test_every_error_code_has_a_status_and_title() -> None:
    assert set(HTTP_STATUS) == set(ErrorCode)
    assert set(TITLES) == set(ErrorCode)
    assert all(c.value == c.value.lower() and " " not in c.value for c in ErrorCode)
