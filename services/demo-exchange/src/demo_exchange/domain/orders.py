"""The order aggregate: its fields, its explicit status-transition table, and what it watches for."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from contracts.orders import AssetAmount, Order, OrderStatus, OrderType, Side, TimeInForce
from demo_exchange.domain.money import ZERO

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.OPEN: frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.EXPIRED}),
    OrderStatus.FILLED: frozenset(),
    OrderStatus.CANCELED: frozenset(),
    OrderStatus.EXPIRED: frozenset(),
    OrderStatus.REJECTED: frozenset(),
}
FINAL = frozenset(s for s, nexts in TRANSITIONS.items() if not nexts)


class IllegalTransition(Exception):
    def __init__(self, current: OrderStatus, wanted: OrderStatus) -> None:
        super().__init__(f"an order cannot go from {current} to {wanted}")
        self.current = current
        self.wanted = wanted


class Direction(StrEnum):
    """What a resting order waits for: the price at or below (``le``) / at or above (``ge``) a level."""

    AT_OR_BELOW = "le"
    AT_OR_ABOVE = "ge"


@dataclass(frozen=True)
class OrderState:
    id: str
    client_order_id: str
    wallet_id: str
    symbol: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    quantity: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    filled_quantity: Decimal = ZERO
    average_price: Decimal | None = None
    fee_asset: str = ""
    fee_amount: Decimal = ZERO
    locked_asset: str = ""
    locked_amount: Decimal = ZERO
    reason: str | None = None
    triggered_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status is OrderStatus.OPEN

    def transition(self, to: OrderStatus, at: datetime, **changes: object) -> OrderState:
        if to not in TRANSITIONS[self.status]:
            raise IllegalTransition(self.status, to)
        closed_at = at if to in FINAL else None
        return replace(self, status=to, updated_at=at, closed_at=closed_at, **changes)  # type: ignore[arg-type]

    def watch(self) -> tuple[Direction, Decimal] | None:
        """The price condition that wakes a resting order, or None if it is not resting."""
        if not self.is_open:
            return None
        buy = self.side is Side.BUY
        waiting_for_stop = self.type in {OrderType.STOP, OrderType.STOP_LIMIT} and self.triggered_at is None
        if waiting_for_stop:
            assert self.stop_price is not None
            return (Direction.AT_OR_ABOVE if buy else Direction.AT_OR_BELOW), self.stop_price
        assert self.price is not None
        return (Direction.AT_OR_BELOW if buy else Direction.AT_OR_ABOVE), self.price

    def public(self) -> Order:
        return Order(
            id=self.id,
            client_order_id=self.client_order_id,
            wallet_id=self.wallet_id,
            symbol=self.symbol,
            side=self.side,
            type=self.type,
            time_in_force=self.time_in_force,
            quantity=self.quantity,
            price=self.price,
            stop_price=self.stop_price,
            status=self.status,
            filled_quantity=self.filled_quantity,
            average_price=self.average_price,
            fee=AssetAmount(asset=self.fee_asset, amount=self.fee_amount),
            locked=AssetAmount(asset=self.locked_asset, amount=self.locked_amount),
            reason=self.reason,
            triggered_at=self.triggered_at,
            created_at=self.created_at,
            updated_at=self.updated_at,
            closed_at=self.closed_at,
        )


def triggered(direction: Direction, level: Decimal, price: Decimal) -> bool:
    return price <= level if direction is Direction.AT_OR_BELOW else price >= level
