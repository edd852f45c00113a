"""Per-wallet risk limits, checked before an order is accepted."""

from __future__ import annotations

from decimal import Decimal

from contracts.errors import ErrorCode, ServiceError
from contracts.orders import OrderCreate
from contracts.wallets import RiskLimits


def check_risk(limits: RiskLimits, request: OrderCreate, notional: Decimal, open_orders: int) -> None:
    """Refuse an order that breaks a limit, naming the limit (``risk_limit_exceeded``)."""
    if limits.allowed_symbols is not None and request.symbol not in limits.allowed_symbols:
        raise ServiceError(
            ErrorCode.RISK_LIMIT_EXCEEDED, f"allowed_symbols: {request.symbol} is not allowed on this wallet"
        )
    if limits.max_order_notional is not None and notional > limits.max_order_notional:
        raise ServiceError(
            ErrorCode.RISK_LIMIT_EXCEEDED,
            f"max_order_notional: {notional} exceeds the limit of {limits.max_order_notional}",
        )
    if limits.max_open_orders is not None and open_orders >= limits.max_open_orders:
        raise ServiceError(
            ErrorCode.RISK_LIMIT_EXCEEDED,
            f"max_open_orders: this wallet already has {open_orders} open orders "
            f"(limit {limits.max_open_orders})",
        )
