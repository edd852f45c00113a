"""Realised PnL in the quote asset, by average cost, from a wallet's trades (pure).

A buy adds to the position at its full cost (quote paid + fee). A sell realises
``proceeds − fee − average_cost × quantity`` and reduces the position's cost by ``average_cost × quantity``.
Selling more than the tracked position (e.g. assets deposited, never bought) realises against a zero cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from contracts.orders import Side, Trade

EIGHT = Decimal("0.00000001")


@dataclass(frozen=True)
class Position:
    quantity: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)


def apply_trade(position: Position, trade: Trade) -> tuple[Position, Decimal]:
    """The position after the trade, and the PnL it realised."""
    if trade.side is Side.BUY:
        return Position(
            position.quantity + trade.quantity, position.cost + trade.quote_amount + trade.fee.amount
        ), Decimal(0)
    held = min(trade.quantity, position.quantity)
    average = position.cost / position.quantity if position.quantity > 0 else Decimal(0)
    released = (average * held).quantize(EIGHT, rounding=ROUND_HALF_EVEN)
    realised = trade.quote_amount - trade.fee.amount - released
    remaining = position.quantity - held
    cost = position.cost - released if remaining > 0 else Decimal(0)
    return Position(remaining, cost), realised
