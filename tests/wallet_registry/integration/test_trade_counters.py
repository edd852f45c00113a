"""The registry's trade counters (``total_trades``, realised PnL) on a real Mongo wire server, kept by two
registry instances at once: each remembers the counters it last wrote and writes the next trade without
reading them, yet a copy made stale by the other instance never loses or doubles a trade."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from bson import ObjectId

from contracts.events import Event
from contracts.orders import Side, Trade
from contracts.subjects import EventType
from tests.support.factories import binance_wallet_body, user_id
from tests.wallet_registry.integration.test_registry_service import create_cmd
from wallet_registry.app import RegistryRuntime
from wallet_registry.caches import RegistryCaches
from wallet_registry.domain.pnl import Position, apply_trade

D = Decimal


def trade_event(wallet_id: str, user: str, seq: int, side: Side, price: str) -> Event:
    now = datetime.now(UTC)
    quantity = D("0.5")
    trade = Trade.model_validate(
        {
            "id": str(ObjectId()),
            "order_id": str(ObjectId()),
            "symbol": "BTC/USDT",
            "side": side.value,
            "quantity": str(quantity),
            "price": price,
            "quote_amount": str(quantity * D(price)),
            "fee": {"asset": "USDT", "amount": "0.1"},
            "liquidity": "taker",
            "quote": {"price": price, "ts": now.isoformat(), "source": "test"},
            "executed_at": now.isoformat(),
        }
    )
    return Event(
        event_id=f"demo-exchange:{wallet_id}:{seq}",
        event_type=EventType.TRADE_EXECUTED,
        occurred_at=now,
        wallet_id=wallet_id,
        user_id=user,
        sequence=seq,
        correlation_id=None,
        data=trade.model_dump(mode="json"),
    )


async def test_two_instances_alternating_count_every_trade_once_and_realise_the_same_pnl(
    registry: RegistryRuntime,
) -> None:
    user = user_id()
    wallet = await registry.service.create_wallet(create_cmd(user, binance_wallet_body()))
    first, second = registry.caches, RegistryCaches(registry.store, registry.cipher)
    plan = [
        (first, Side.BUY, "100"),
        (first, Side.BUY, "120"),  # first's own copy: written without a read
        (second, Side.SELL, "130"),  # second reads (it has no copy)
        (first, Side.BUY, "90"),  # first's copy is stale (second wrote): its write loses, it reads again
        (second, Side.SELL, "150"),  # second's copy is stale too
        (first, Side.SELL, "80"),
    ]
    position, expected_pnl = Position(D(0), D(0)), D(0)
    events = []
    for seq, (instance, side, price) in enumerate(plan, start=1):
        event = trade_event(wallet.id, user, seq, side, price)
        events.append(event)
        await instance.on_trade_executed(event)
        position, realised = apply_trade(position, Trade.model_validate(event.data))
        expected_pnl += realised
    # Replays of applied trades (a redelivery, to either instance) change nothing.
    await first.on_trade_executed(events[2])
    await second.on_trade_executed(events[-1])

    doc = await registry.store.user_wallets.find_one({"_id": ObjectId(wallet.id)})
    assert doc is not None
    assert doc["total_trades"] == len(plan)
    assert doc["trade_seq"] == len(plan)
    assert D(str(doc["total_pnl"])) == expected_pnl
    assert expected_pnl != 0
    assert first._trading.hits >= 1  # the second trade came from its copy
