"""Rounding rules: every computed amount is rounded half-even to 8 decimals (CONTRACT.md)."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

EIGHT = Decimal("0.00000001")
ZERO = Decimal(0)


def round8(value: Decimal) -> Decimal:
    return value.quantize(EIGHT, rounding=ROUND_HALF_EVEN)


def is_multiple(value: Decimal, step: Decimal) -> bool:
    return value % step == 0
