"""Rounding rules: every computed amount is rounded half-even to 8 decimals (CONTRACT.md)."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal, Inexact, InvalidOperation

EIGHT = Decimal("0.00000001")
ZERO = Decimal(0)


EXACT = Context(prec=60, traps=[Inexact, InvalidOperation])
"""Ledger arithmetic: wide enough for any accepted amount, and it raises rather than ever rounding."""
_WIDE = Context(prec=60)  # normalising under a wide context drops trailing zeros without ever rounding


def round8(value: Decimal) -> Decimal:
    """Half-even to 8 decimals, without trailing zeros (``650.065``, not ``650.06500000``)."""
    return value.quantize(EIGHT, rounding=ROUND_HALF_EVEN, context=_WIDE).normalize(_WIDE)


def is_multiple(value: Decimal, step: Decimal) -> bool:
    return value % step == 0
