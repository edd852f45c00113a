"""demo-exchange's write path on a real Mongo wire server and real JetStream: the account cache (a write
without a read first, and never a wrong answer from a stale cache when another instance wrote), trades
projected by the relay after the reply yet listed from the reply on, and history consumers that skip
what the relay already projected."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from bson import ObjectId
from nats.aio.client import Client
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient
from pymongo.monitoring import CommandListener, CommandStartedEvent, CommandSucceededEvent

from contracts.events import Event
from contracts.exchange import FundsBody, ListTrades, MoveFunds, OrderRef, PlaceOrder
from contracts.market import Tick
from contracts.orders import OrderCreate, OrderType, Side
from contracts.subjects import EVENTS_STREAM
from demo_exchange.app import ExchangeRuntime
from demo_exchange.audit import audit_exchange
from demo_exchange.domain import account as acc
from demo_exchange.domain.account import Account
from demo_exchange.domain.ledger import Ledger
from demo_exchange.domain.matching import Quote
from demo_exchange.metrics import ExchangeMetrics
from demo_exchange.service import ExchangeService
from demo_exchange.settings import ExchangeSettings
from demo_exchange.store import ExchangeStore
from servicekit.consumers import durable_name
from servicekit.events import ensure_events_stream
from servicekit.mongo import Document, database
from servicekit.outbox import OUTBOX_FIELD, PROJECTED_HEADER, OutboxRelay, outbox_entry
from tests.demo_exchange.integration.conftest import market_buy
from tests.support.waiting import eventually

D = Decimal
USER = "write-path-user"


class Commands(CommandListener):
    """Every store command this instance sends: (command, collection)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def started(self, event: CommandStartedEvent) -> None:
        target = event.command.get(event.command_name)
        if isinstance(target, str):
            self.seen.append((event.command_name, target))

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: object) -> None:
        pass


@dataclass
class Instance:
    """One demo-exchange instance's service code on its own Mongo client, relaying to real JetStream."""

    service: ExchangeService
    relay: OutboxRelay
    commands: Commands
    client: AsyncMongoClient[Document]
    wallet_id: str
    relaying: dict[str, bool]  # {"held": True}: nothing is relayed after a command (a slow relay)

    def hold(self, held: bool) -> None:
        self.relaying["held"] = held

    def market(self, side: Side, quantity: str, cid: str | None = None) -> PlaceOrder:
        body = OrderCreate(
            symbol="BTC/USDT", side=side, type=OrderType.MARKET, quantity=D(quantity), client_order_id=cid
        )
        return PlaceOrder(wallet_id=self.wallet_id, user_id=USER, body=body)


async def _instance(mongo_url: str, db_name: str, nc: Client, wallet_id: str) -> Instance:
    commands = Commands()
    client: AsyncMongoClient[Document] = AsyncMongoClient(
        mongo_url, document_class=dict, tz_aware=True, event_listeners=[commands]
    )
    store = ExchangeStore(database(client, db_name))
    relay = OutboxRelay(store.state, nc)
    relaying = {"held": False}

    async def publish(doc_id: str, entries: list[Document]) -> None:
        if not relaying["held"]:
            await relay.relay(doc_id, entries)

    service = ExchangeService.configured(
        store, ExchangeSettings(), publish, ExchangeMetrics(CollectorRegistry())
    )
    relay.before_publish = service.project_before_relay
    service.prices.update(Tick(symbol="BTC/USDT", price=D("50000"), ts=datetime.now(UTC), source="test"))
    return Instance(service, relay, commands, client, wallet_id, relaying)


@pytest.fixture
async def instances(mongo_url: str, db_name: str, nc: Client) -> AsyncIterator[list[Instance]]:
    """Two instances on one database and one wallet (10,000 USDT), both knowing the price."""
    await ensure_events_stream(nc)
    wallet_id = str(ObjectId())
    made = [await _instance(mongo_url, db_name, nc, wallet_id) for _ in range(2)]
    await made[0].service.store.ensure_indexes()
    now = datetime.now(UTC)
    opened = Account(
        wallet_id=wallet_id, user_id=USER, ledger=Ledger.of({"USDT": D("10000")}),
        funding={"USDT": D("10000")}, created_at=now, updated_at=now, version=1,
    )  # fmt: skip
    assert await made[0].service.store.insert(opened, [])
    yield made
    for instance in made:
        await instance.service.relayed()
        await instance.client.close()


async def test_a_command_on_a_wallet_this_instance_wrote_last_writes_without_reading_it_first(
    instances: list[Instance],
) -> None:
    a, _ = instances
    await a.service.place(a.market(Side.BUY, "0.01"))  # the first command reads the account
    await a.service.relayed()
    a.commands.seen.clear()

    placed = await a.service.place(a.market(Side.BUY, "0.01"))
    before_reply = list(a.commands.seen)
    await a.service.relayed()
    after_reply = a.commands.seen[len(before_reply) :]

    assert placed.order.status == "filled"
    # The conditional write of state + events, then the order's history: no read of the account.
    assert before_reply == [("update", "demo_wallet_state"), ("update", "demo_orders")]
    # The relay, from what was committed (no read back): the trade into history, the entries removed.
    assert after_reply == [("insert", "demo_trades"), ("update", "demo_wallet_state")]
    assert a.service.accounts.hits >= 1


async def test_a_stale_cache_never_refuses_or_repeats_what_another_instance_made_possible(
    instances: list[Instance],
) -> None:
    a, b = instances
    await a.service.place(a.market(Side.BUY, "0.01"))  # a now caches the account
    assert len(a.service.accounts) == 1

    # b deposits behind a's back: an order only the deposit pays for succeeds on a.
    await b.service.deposit(
        MoveFunds(
            wallet_id=a.wallet_id,
            user_id=USER,
            command_id="deposit-1",
            body=FundsBody(asset="USDT", amount=D("90000")),
        )
    )
    big = await a.service.place(a.market(Side.BUY, "1"))
    assert big.order.status == "filled"

    # b places a resting order a has never seen: a cancels it.
    resting = await b.service.place(
        PlaceOrder(
            wallet_id=a.wallet_id,
            user_id=USER,
            body=OrderCreate(
                symbol="BTC/USDT", side=Side.BUY, type=OrderType.LIMIT, quantity=D("0.01"), price=D("1000")
            ),
        )
    )
    canceled = await a.service.cancel(
        OrderRef(wallet_id=a.wallet_id, user_id=USER, order_ref=resting.order.id)
    )
    assert canceled.status == "canceled"

    # b accepts a client_order_id: the same request on a (stale) is the same order, not a second one.
    first = await b.service.place(b.market(Side.SELL, "0.01", cid="twice"))
    again = await a.service.place(a.market(Side.SELL, "0.01", cid="twice"))
    assert again.created is False
    assert again.order.id == first.order.id
    await a.service.relayed()
    await b.service.relayed()

    orders = await a.service.store.orders.count_documents({"wallet_id": a.wallet_id})
    assert orders == 4  # 0.01, 1, the canceled limit, "twice": nothing applied twice
    report = await audit_exchange(a.service.store.db)
    assert [x.ok for x in report.accounts] == [True]  # funded + trades = free + locked, per asset
    assert report.trades == 3
    stored = await a.service.store.load(a.wallet_id)
    assert stored is not None
    assert stored.ledger.get("USDT").locked == 0


async def test_trades_are_listed_from_the_reply_on_while_the_relay_has_not_run(
    instances: list[Instance],
) -> None:
    a, _ = instances
    a.hold(True)
    placed = [await a.service.place(a.market(Side.BUY, "0.001")) for _ in range(3)]
    await a.service.relayed()
    assert await a.service.store.trades.count_documents({"wallet_id": a.wallet_id}) == 0

    listing = await a.service.list_trades(ListTrades(wallet_id=a.wallet_id, user_id=USER, limit=10))
    assert [t.order_id for t in listing.items] == [p.order.id for p in reversed(placed)]

    # Two relayed into history, two more still pending: pages of 2 walk all five once, newest first.
    a.hold(False)
    await a.relay.flush(a.wallet_id)
    a.hold(True)
    placed += [await a.service.place(a.market(Side.BUY, "0.001")) for _ in range(2)]
    assert await a.service.store.trades.count_documents({"wallet_id": a.wallet_id}) == 3
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = await a.service.list_trades(
            ListTrades(wallet_id=a.wallet_id, user_id=USER, limit=2, cursor=cursor)
        )
        seen += [t.order_id for t in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [p.order.id for p in reversed(placed)]

    a.hold(False)
    await a.relay.flush(a.wallet_id)
    state = await a.service.store.state.find_one({"_id": a.wallet_id})
    assert state is not None
    assert state[OUTBOX_FIELD] == []
    assert await a.service.store.trades.count_documents({"wallet_id": a.wallet_id}) == 5
    listing = await a.service.list_trades(ListTrades(wallet_id=a.wallet_id, user_id=USER, limit=10))
    assert [t.order_id for t in listing.items] == [p.order.id for p in reversed(placed)]


async def test_history_consumers_skip_events_the_relay_marked_projected_and_repair_the_others(
    exchange: ExchangeRuntime, nc: Client
) -> None:
    marked, unmarked = (_order_events(exchange, str(ObjectId()), "someone") for _ in range(2))
    js = nc.jetstream()
    for events, headers in ((marked, {PROJECTED_HEADER: "1"}), (unmarked, {})):
        for event in events:
            entry = outbox_entry(event)
            await js.publish(
                entry["subject"],
                entry["payload"].encode(),
                headers={"Nats-Msg-Id": event.event_id, **headers},
            )

    def order_id(events: list[Event]) -> str:
        data = events[0].data
        assert isinstance(data, dict)
        return str(data["id"])

    async def repaired() -> Document | None:
        return await exchange.store.orders.find_one({"_id": order_id(unmarked)})

    await eventually(repaired, what="the unmarked order projected by the consumer")
    durable = durable_name(exchange.settings.mongodb_db_prefix, "demo-exchange-order-history")

    async def settled() -> bool:
        info = await js.consumer_info(EVENTS_STREAM, durable)
        return bool(info.num_pending == 0 and info.num_ack_pending == 0)

    await eventually(settled, what="the order history consumer has acked everything")
    assert await exchange.store.orders.find_one({"_id": order_id(marked)}) is None
    assert await exchange.store.trades.count_documents({"order_id": order_id(unmarked)}) == 1
    assert await exchange.store.trades.count_documents({"order_id": order_id(marked)}) == 0


def _order_events(exchange: ExchangeRuntime, wallet_id: str, user_id: str) -> list[Event]:
    """The events of a market buy, built by the pure domain and never written to the store."""
    now = datetime.now(UTC)
    account = Account(
        wallet_id=wallet_id, user_id=user_id, ledger=Ledger.of({"USDT": D("10000")}),
        created_at=now, updated_at=now, version=1,
    )  # fmt: skip
    change = market_buy(exchange, account, "cid-1", Quote(price=D("50000"), ts=now, source="test"), now)
    _, events = acc.build_events(change, now, "marked-test")
    return events


async def test_a_trade_projected_twice_stays_one_and_other_new_trades_of_the_batch_still_land(
    instances: list[Instance],
) -> None:
    """Two relays of the same entries (a command's and a sweep's) race: the second insert meets the
    first's trades; it must neither fail nor drop the trades that are new."""
    a, _ = instances
    a.hold(True)
    for _ in range(2):
        await a.service.place(a.market(Side.BUY, "0.001"))
    await a.service.relayed()
    state = await a.service.store.state.find_one({"_id": a.wallet_id})
    assert state is not None
    entries = state[OUTBOX_FIELD]
    trades = [e for e in entries if e["subject"].startswith("evt.trade.executed.")]
    assert len(trades) == 2

    await a.service.project_before_relay(trades[:1])  # the first relay got one trade in
    await a.service.project_before_relay(entries)  # the second meets it and brings the other
    assert await a.service.store.trades.count_documents({"wallet_id": a.wallet_id}) == 2
