"""Factories for the paper-trading domain tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from contracts.orders import OrderCreate, OrderStatus, OrderType, Side, TimeInForce
from demo_exchange.domain.instruments import DEFAULT_INSTRUMENTS, Instrument
from demo_exchange.domain.ledger import Ledger
from demo_exchange.domain.matching import Engine, Quote
from demo_exchange.domain.orders import OrderState

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BTC = DEFAULT_INSTRUMENTS["BTC/USDT"]
SOL = DEFAULT_INSTRUMENTS["SOL/USDT"]
ENGINE = Engine()
D = Decimal


def later(seconds: int = 1) -> datetime:
    return NOW + timedelta(seconds=seconds)


def quote(price: str, source: str = "test") -> Quote:
    return Quote(price=D(price), ts=NOW, source=source)


def ledger(**amounts: str) -> Ledger:
    return Ledger.of({asset: D(v) for asset, v in amounts.items()})


def request(
    type_: OrderType,
    side: Side,
    quantity: str,
    *,
    price: str | None = None,
    stop: str | None = None,
    tif: TimeInForce = TimeInForce.GTC,
    symbol: str = "BTC/USDT",
) -> OrderCreate:
    return OrderCreate(
        symbol=symbol,
        side=side,
        type=type_,
        quantity=D(quantity),
        price=D(price) if price else None,
        stop_price=D(stop) if stop else None,
        time_in_force=tif,
    )


def order(
    type_: OrderType,
    side: Side,
    quantity: str,
    *,
    price: str | None = None,
    stop: str | None = None,
    tif: TimeInForce = TimeInForce.GTC,
    instrument: Instrument = BTC,
    order_id: str = "o1",
) -> OrderState:
    return OrderState(
        id=order_id,
        client_order_id=f"c-{order_id}",
        wallet_id="6650c0ffee0000000000000a",
        symbol=instrument.symbol,
        side=side,
        type=type_,
        time_in_force=tif,
        quantity=D(quantity),
        price=D(price) if price else None,
        stop_price=D(stop) if stop else None,
        status=OrderStatus.OPEN,
        created_at=NOW,
        updated_at=NOW,
        fee_asset=instrument.quote,
        locked_asset=instrument.quote if side is Side.BUY else instrument.base,
    )
