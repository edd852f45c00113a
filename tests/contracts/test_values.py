"""Amounts are decimal strings on the wire; JSON numbers and exotic spellings are refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from contracts.values import Amount, SignedAmount

amount = TypeAdapter(Amount)
signed = TypeAdapter(SignedAmount)


@pytest.mark.parametrize("raw", ["0", "0.015", "10000", "123456789.123456789"])
def test_decimal_string_is_parsed_exactly(raw: str) -> None:
    assert amount.validate_python(raw) == Decimal(raw)


@pytest.mark.parametrize("raw", ["1.5", "1", "true"])
def test_json_number_where_an_amount_is_expected_is_refused(raw: str) -> None:
    with pytest.raises(ValidationError, match="decimal string"):
        amount.validate_json(raw)


@pytest.mark.parametrize("raw", ['"1e3"', '"NaN"', '"Infinity"', '" 1"', '"1."', '""', '"0x10"', '"-1"'])
def test_non_plain_or_negative_amount_string_is_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        amount.validate_json(raw)


def test_signed_amount_accepts_negative_values() -> None:
    assert signed.validate_json('"-12.5"') == Decimal("-12.5")


def test_amount_serialises_as_a_plain_string_never_scientific() -> None:
    assert amount.dump_json(Decimal("1E-7")) == b'"0.0000001"'
    assert amount.dump_python(Decimal("2.50")) == Decimal("2.50")  # python mode keeps Decimal (for Mongo)


@given(st.decimals(min_value=0, max_value=10**12, places=8, allow_nan=False, allow_infinity=False))
def test_amount_round_trips_through_json_exactly(value: Decimal) -> None:
    assert amount.validate_json(amount.dump_json(value)) == value


def test_float_instance_is_refused_even_from_python() -> None:
    with pytest.raises(ValidationError):
        amount.validate_python(0.1)


def test_amount_with_more_digits_than_decimal128_holds_is_refused() -> None:
    assert amount.validate_json('"9999999999999999.999999999999999999"') == Decimal(
        "9999999999999999.999999999999999999"
    )
    with pytest.raises(ValidationError):
        amount.validate_json('"12345678901234567"')  # 17 integer digits
    with pytest.raises(ValidationError):
        amount.validate_json('"1.1234567890123456789"')  # 19 fractional digits
