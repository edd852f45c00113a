"""demo-exchange subscribers: request/reply in queue group ``demo-exchange``, ticks, and durable
JetStream consumers (wallet lifecycle, history projection) that NACK on error so nothing is dropped."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from faststream.nats import JStream, NatsBroker
from faststream.nats.annotations import NatsMessage
from nats.aio.client import Client
from pydantic import BaseModel

from contracts.base import Page
from contracts.events import Event, WalletEvent
from contracts.exchange import (
    AccountRef,
    GetTicker,
    ListOrders,
    ListTrades,
    MoveFunds,
    OrderRef,
    Ping,
    PlaceOrder,
    ResetAccount,
    SyncAccount,
)
from contracts.market import Tick
from contracts.replies import Reply
from contracts.subjects import EVENTS_STREAM, TICKS_WILDCARD, EventType, Exchange, QueueGroup, event_filter
from demo_exchange.projector import project_event
from demo_exchange.service import ExchangeService
from servicekit.consumers import durable_name, durable_subscriber, settle
from servicekit.outbox import PROJECTED_HEADER
from servicekit.rpc import MemoryResponder, ok

QUEUE = QueueGroup.DEMO_EXCHANGE.value
Handler = Callable[..., Awaitable[Reply[Any]]]
EVENTS = JStream(EVENTS_STREAM, declare=False)


def register(
    broker: NatsBroker,
    service: ExchangeService,
    *,
    workers: int,
    tick_workers: int,
    prefix: str,
    nc: Callable[[], Client],
    memory: MemoryResponder | None = None,
) -> None:
    def request(subject: str) -> Callable[[Handler], object]:
        subscriber: Callable[[Handler], object] = broker.subscriber(subject, queue=QUEUE, max_workers=workers)
        return subscriber

    # The market requests and ping never wait on anything (memory only): with ``memory``, they are answered
    # on a plain NATS subscription in the same queue group, without FastStream's per-message pipeline
    # (``servicekit.rpc.MemoryResponder``; the handler below is still the one that answers). Without it,
    # one at a time in the subscription's task (max_workers=1): no worker pool for a dictionary lookup.
    def memory_only(subject: str, command: type[BaseModel]) -> Callable[[Handler], Handler]:
        def declare(handler: Handler) -> Handler:
            subscriber = broker.subscriber(subject, queue=QUEUE, max_workers=1)
            subscriber(handler)
            if memory is not None:
                memory.answer(subscriber, command, handler)
            return handler

        return declare

    @request(Exchange.ACCOUNTS_SYNC)
    async def sync_account(cmd: SyncAccount) -> Reply[Any]:
        await service.sync_account(cmd)
        return ok(None)

    @request(Exchange.ACCOUNTS_RESET)
    async def reset(cmd: ResetAccount) -> Reply[Any]:
        return ok(await service.reset(cmd))

    @request(Exchange.FUNDS_DEPOSIT)
    async def deposit(cmd: MoveFunds) -> Reply[Any]:
        return ok(await service.deposit(cmd))

    @request(Exchange.FUNDS_WITHDRAW)
    async def withdraw(cmd: MoveFunds) -> Reply[Any]:
        return ok(await service.withdraw(cmd))

    @request(Exchange.BALANCES_GET)
    async def balances(cmd: AccountRef) -> Reply[Any]:
        return ok(await service.balances(cmd))

    @request(Exchange.ORDERS_PLACE)
    async def place(cmd: PlaceOrder) -> Reply[Any]:
        return ok(await service.place(cmd))

    @request(Exchange.ORDERS_CANCEL)
    async def cancel(cmd: OrderRef) -> Reply[Any]:
        return ok(await service.cancel(cmd))

    @request(Exchange.ORDERS_GET)
    async def get_order(cmd: OrderRef) -> Reply[Any]:
        return ok(await service.get_order(cmd))

    @request(Exchange.ORDERS_LIST)
    async def list_orders(cmd: ListOrders) -> Reply[Any]:
        return ok(await service.list_orders(cmd))

    @request(Exchange.TRADES_LIST)
    async def list_trades(cmd: ListTrades) -> Reply[Any]:
        return ok(await service.list_trades(cmd))

    @memory_only(Exchange.MARKET_SYMBOLS, Ping)
    async def symbols(cmd: Ping) -> Reply[Any]:
        return ok(Page(items=service.symbols()))

    @memory_only(Exchange.MARKET_TICKER, GetTicker)
    async def ticker(cmd: GetTicker) -> Reply[Any]:
        return ok(service.ticker(cmd.symbol))

    @memory_only(Exchange.PING, Ping)
    async def ping(cmd: Ping) -> Reply[Any]:
        return ok(None)

    # Every instance keeps the last price (no queue group) ...
    @broker.subscriber(TICKS_WILDCARD, max_workers=1)
    async def remember_price(tick: Tick) -> None:
        service.prices.update(tick)

    # ... and one instance per tick persists it and fills what it triggers.
    @broker.subscriber(TICKS_WILDCARD, queue=QUEUE, max_workers=tick_workers)
    async def trigger(tick: Tick) -> None:
        await service.on_tick(tick)

    @durable_subscriber(
        broker,
        "evt.wallet.>",
        stream=EVENTS,
        durable=durable_name(prefix, "demo-exchange-wallets"),
        batch_size=16,
    )
    async def wallet_lifecycle(event: WalletEvent, msg: NatsMessage) -> None:
        """The registry's wallet events open, update and close demo accounts (idempotent by sequence)."""
        sync = SyncAccount(
            registry_sequence=event.sequence,
            wallet=event.data,
            deleted=event.event_type is EventType.WALLET_DELETED,
        )
        await settle(msg, service.sync_account(sync), nc=nc())

    for event_type, name in (
        (EventType.ORDER_UPDATED, "demo-exchange-order-history"),
        (EventType.TRADE_EXECUTED, "demo-exchange-trade-history"),
    ):

        @durable_subscriber(
            broker,
            event_filter(event_type),
            stream=EVENTS,
            durable=durable_name(prefix, name),
            batch_size=64,
        )
        async def project(event: Event, msg: NatsMessage) -> None:
            """History rebuilt from events: repairs a projection lost to a crash (replays change nothing).
            Events our relay marks as projected are already in history: acked without a write."""
            if msg.headers.get(PROJECTED_HEADER) == "1":
                await msg.ack()
                return
            await settle(msg, project_event(service.store, event), nc=nc())
