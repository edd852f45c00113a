"""The event envelope published on ``MONIQO_EVENTS`` (``evt.>``), header ``Nats-Msg-Id`` = ``event_id``."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, JsonValue

from contracts.base import Model
from contracts.orders import BalanceChanged, Order, Trade
from contracts.subjects import EventType
from contracts.sync import SyncLog
from contracts.values import EventId, UserId, WalletId
from contracts.wallets import UserWallet


class Event(Model):
    event_id: EventId
    event_type: EventType
    occurred_at: datetime
    wallet_id: WalletId
    user_id: UserId
    sequence: int = Field(ge=1, description="+1 per wallet within each producing service")
    correlation_id: str | None = None
    data: JsonValue


class WalletEvent(Event):
    """``evt.wallet.created|updated|deleted.<wallet_id>``; data is the wallet as clients see it."""

    data: UserWallet  # type: ignore[assignment]


class OrderUpdatedEvent(Event):
    """``evt.order.updated.<wallet_id>``; data is the order as clients see it."""

    data: Order  # type: ignore[assignment]


class TradeExecutedEvent(Event):
    """``evt.trade.executed.<wallet_id>``; data is the fill (trade)."""

    data: Trade  # type: ignore[assignment]


class BalanceChangedEvent(Event):
    """``evt.balance.changed.<wallet_id>``; data is the balances after the change and the signed changes."""

    data: BalanceChanged  # type: ignore[assignment]


class BalanceSyncedEvent(Event):
    """``evt.balance.synced.<wallet_id>``; data is the sync log."""

    data: SyncLog  # type: ignore[assignment]


# The typed envelope of each event type (the data model a consumer can parse ``data`` with).
EVENT_MODELS: dict[EventType, type[Event]] = {
    EventType.ORDER_UPDATED: OrderUpdatedEvent,
    EventType.TRADE_EXECUTED: TradeExecutedEvent,
    EventType.BALANCE_CHANGED: BalanceChangedEvent,
    EventType.BALANCE_SYNCED: BalanceSyncedEvent,
    EventType.WALLET_CREATED: WalletEvent,
    EventType.WALLET_UPDATED: WalletEvent,
    EventType.WALLET_DELETED: WalletEvent,
}
