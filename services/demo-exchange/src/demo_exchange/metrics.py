"""demo-exchange's business counters (served on ``/metrics`` with the broker's):

- ``moniqo_orders_total{status}``: order updates committed, by the status the order reached (one per
  ``evt.order.updated``: ``open``, ``filled``, ``canceled``, ``expired``), plus ``rejected`` for placements
  refused by a rule (no order is created; the code is in ``moniqo_order_rejections_total{code}``).
- ``moniqo_fills_total{symbol, side, liquidity}``: trades executed (one per ``evt.trade.executed``).

Counted by the service layer after the write that commits them, never by the pure domain.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from contracts.errors import ErrorCode
from contracts.orders import OrderStatus
from demo_exchange.domain.account import Change

NOT_A_REJECTION = {ErrorCode.CONCURRENT_MODIFICATION, ErrorCode.WALLET_NOT_FOUND}
"""Refusals that say nothing about the order itself (busy, or no such wallet)."""


class ExchangeMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.orders = Counter(
            "moniqo_orders",
            "Order updates committed, by the status reached (rejected: refused)",
            ["status"],
            registry=registry,
        )
        self.rejections = Counter(
            "moniqo_order_rejections", "Order placements refused, by error code", ["code"], registry=registry
        )
        self.fills = Counter(
            "moniqo_fills", "Trades executed", ["symbol", "side", "liquidity"], registry=registry
        )
        for status in OrderStatus:  # every status is a series from the start (rates need a zero)
            self.orders.labels(status.value)

    def committed(self, change: Change) -> None:
        for order in change.orders:
            self.orders.labels(order.status.value).inc()
        for fill in change.fills:
            self.fills.labels(fill.symbol, fill.side.value, fill.liquidity.value).inc()

    def rejected(self, code: ErrorCode) -> None:
        if code in NOT_A_REJECTION:
            return
        self.orders.labels(OrderStatus.REJECTED.value).inc()
        self.rejections.labels(code.value).inc()
