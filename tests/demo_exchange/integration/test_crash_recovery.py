"""A command committed just before a crash (events in the outbox, not relayed, history not projected)
is relayed by the sweep and projected from the stream by the durable consumers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from nats.aio.client import Client

from contracts.market import Tick
from demo_exchange.app import ExchangeRuntime
from demo_exchange.domain import account as acc
from servicekit.outbox import OUTBOX_FIELD, outbox_entry
from tests.demo_exchange.integration.conftest import demo_wallet, market_buy, open_account
from tests.support.events import at_least
from tests.support.waiting import eventually


async def test_committed_but_unrelayed_order_reaches_the_stream_and_the_history(
    exchange: ExchangeRuntime, nc: Client
) -> None:
    wallet = demo_wallet()
    await open_account(exchange, wallet)
    await exchange.service.on_tick(
        Tick(symbol="BTC/USDT", price=Decimal("65000"), ts=datetime.now(UTC), source="test")
    )
    account = await exchange.store.load(wallet.id)
    assert account is not None
    # What `_mutate` does, minus the projection and the relay: the process dies right after the write.
    earlier = datetime.now(UTC) - timedelta(seconds=5)
    change = market_buy(exchange, account, "crash-1", exchange.service.prices.get("BTC/USDT"), earlier)
    new, events = acc.build_events(change, earlier, "crash-1")
    assert await exchange.store.save(
        replace(new, version=account.version + 1),
        expected_version=account.version,
        outbox=[outbox_entry(e) for e in events],
    )
    (order,) = change.orders
    assert await exchange.store.find_order(wallet.id, wallet.user_id, order.id) is None

    assert exchange.relay is not None
    await exchange.relay.sweep(older_than=timedelta(seconds=1))  # (its own sweeper may get there first)
    found = await eventually(
        at_least(nc, wallet.id, 1 + len(events)), what="the committed events in the stream"
    )
    assert [i for _, _, i in found][-len(events) :] == [e.event_id for e in events]

    async def projected() -> dict[str, object] | None:
        return await exchange.store.find_order(wallet.id, wallet.user_id, "crash-1")

    doc = await eventually(projected, what="the order projected from its event")
    assert doc["status"] == "filled"
    assert await exchange.store.trades.count_documents({"order_id": order.id}) == 1
    state = await exchange.store.state.find_one({"_id": wallet.id})
    assert state is not None
    assert state[OUTBOX_FIELD] == []
