"""Demo trading: order requests, orders, trades and balances as clients see them (CONTRACT.md)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from contracts.base import Model
from contracts.values import Amount, Asset, SignedAmount, Symbol, WalletId

ClientOrderId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


class TimeInForce(StrEnum):
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"


class OrderStatus(StrEnum):
    OPEN = "open"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"


class Liquidity(StrEnum):
    MAKER = "maker"
    TAKER = "taker"


class OrderCreate(Model):
    """HTTP body of ``POST /user-wallets/{id}/orders``."""

    symbol: Symbol = Field(examples=["BTC/USDT"])
    side: Side
    type: OrderType
    quantity: Amount = Field(examples=["0.015"])
    price: Amount | None = Field(default=None, description="limit and stop_limit orders")
    stop_price: Amount | None = Field(default=None, description="stop and stop_limit orders")
    time_in_force: TimeInForce = TimeInForce.GTC
    client_order_id: ClientOrderId | None = Field(
        default=None, description="retry-safe id; generated if absent"
    )

    model_config = Model.model_config | {
        "json_schema_extra": {
            "examples": [
                {"symbol": "BTC/USDT", "side": "buy", "type": "market", "quantity": "0.01"},
                {
                    "symbol": "ETH/USDT",
                    "side": "sell",
                    "type": "limit",
                    "quantity": "0.5",
                    "price": "4200.00",
                },
            ]
        }
    }


class AssetAmount(Model):
    asset: Asset
    amount: Amount


class Order(Model):
    id: str
    client_order_id: ClientOrderId
    wallet_id: WalletId
    symbol: Symbol
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    quantity: Amount
    price: Amount | None
    stop_price: Amount | None
    status: OrderStatus
    filled_quantity: Amount
    average_price: Amount | None
    fee: AssetAmount
    locked: AssetAmount
    reason: str | None = Field(default=None, description="why an order was canceled or expired by the engine")
    triggered_at: datetime | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class QuoteRef(Model):
    """The price observation that caused a fill."""

    price: Amount
    ts: datetime
    source: str


class Trade(Model):
    id: str
    order_id: str
    symbol: Symbol
    side: Side
    quantity: Amount
    price: Amount
    quote_amount: Amount
    fee: AssetAmount
    liquidity: Liquidity
    quote: QuoteRef
    executed_at: datetime


class AssetBalance(Model):
    free: Amount
    locked: Amount
    total: Amount


class Balances(Model):
    wallet_id: WalletId
    balances: dict[Asset, AssetBalance]
    updated_at: datetime


class BalanceChanged(Model):
    """``evt.balance.changed`` data."""

    balances: dict[Asset, AssetBalance]
    changes: dict[Asset, SignedAmount]
