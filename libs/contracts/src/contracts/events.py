"""The event envelope published on ``MONIQO_EVENTS`` (``evt.>``), header ``Nats-Msg-Id`` = ``event_id``."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, JsonValue

from contracts.base import Model
from contracts.subjects import EventType
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
