"""Request/reply subscribers (queue group ``wallet-registry``): decode → service → reply."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from faststream.nats import JStream, NatsBroker
from faststream.nats.annotations import NatsMessage
from nats.aio.client import Client

from contracts.events import Event
from contracts.replies import Reply
from contracts.subjects import EVENTS_STREAM, EventType, QueueGroup, Registry, event_filter
from contracts.sync import GetConnector, GetConnectors, ListActiveWallets
from contracts.wallets import (
    CreateUserWallet,
    DeleteUserWallet,
    GetProvider,
    GetUserWallet,
    ListProviders,
    ListUserWallets,
    TestConnection,
    UpdateUserWallet,
)
from servicekit.consumers import consumer_config, durable_name, durable_subscriber, settle
from servicekit.rpc import ok
from wallet_registry.caches import RegistryCaches
from wallet_registry.service import RegistryService

QUEUE = QueueGroup.WALLET_REGISTRY.value


EVENTS = JStream(EVENTS_STREAM, declare=False)


def register(
    broker: NatsBroker,
    service: RegistryService,
    caches: RegistryCaches,
    *,
    workers: int,
    prefix: str,
    nc: Callable[[], Client],
) -> None:
    @broker.subscriber(Registry.PROVIDERS_LIST, queue=QUEUE, max_workers=workers)
    async def list_providers(cmd: ListProviders) -> Reply[Any]:
        return ok(await service.list_providers(cmd))

    @broker.subscriber(Registry.PROVIDERS_GET, queue=QUEUE, max_workers=workers)
    async def get_provider(cmd: GetProvider) -> Reply[Any]:
        return ok(await service.get_provider(cmd))

    @broker.subscriber(Registry.WALLETS_CREATE, queue=QUEUE, max_workers=workers)
    async def create_wallet(cmd: CreateUserWallet) -> Reply[Any]:
        return ok(await service.create_wallet(cmd))

    @broker.subscriber(Registry.WALLETS_LIST, queue=QUEUE, max_workers=workers)
    async def list_wallets(cmd: ListUserWallets) -> Reply[Any]:
        return ok(await service.list_wallets(cmd))

    @broker.subscriber(Registry.WALLETS_GET, queue=QUEUE, max_workers=workers)
    async def get_wallet(cmd: GetUserWallet) -> Reply[Any]:
        return ok(await service.get_wallet(cmd))

    @broker.subscriber(Registry.WALLETS_UPDATE, queue=QUEUE, max_workers=workers)
    async def update_wallet(cmd: UpdateUserWallet) -> Reply[Any]:
        return ok(await service.update_wallet(cmd))

    @broker.subscriber(Registry.WALLETS_TEST, queue=QUEUE, max_workers=workers)
    async def test_connection(cmd: TestConnection) -> Reply[Any]:
        return ok(await service.test_connection(cmd))

    @broker.subscriber(Registry.WALLETS_DELETE, queue=QUEUE, max_workers=workers)
    async def delete_wallet(cmd: DeleteUserWallet) -> Reply[Any]:
        await service.delete_wallet(cmd)
        return ok(None)

    # ---- internal: balance-sync's queries ----

    @broker.subscriber(Registry.WALLETS_ACTIVE, queue=QUEUE, max_workers=workers)
    async def active_wallets(cmd: ListActiveWallets) -> Reply[Any]:
        return ok(await caches.list_active(cmd))

    @broker.subscriber(Registry.WALLETS_CONNECTOR, queue=QUEUE, max_workers=workers)
    async def connector(cmd: GetConnector) -> Reply[Any]:
        return ok(await caches.connector(cmd))

    @broker.subscriber(Registry.WALLETS_CONNECTORS, queue=QUEUE, max_workers=workers)
    async def connectors(cmd: GetConnectors) -> Reply[Any]:
        """A batch of sync jobs: each wallet's connector, or its refusal, in one reply."""
        return ok(await caches.connectors(cmd))

    # ---- caches fed by other services' events (durable, shared by all instances, never dropped) ----

    @durable_subscriber(
        broker,
        event_filter(EventType.BALANCE_SYNCED),
        stream=EVENTS,
        durable=durable_name(prefix, "wallet-registry-balances"),
        batch_size=200,  # a pulled batch is applied in one bulk write (RegistryCaches.on_balance_synced)
    )
    async def balance_synced(event: Event, msg: NatsMessage) -> None:
        await settle(msg, caches.on_balance_synced(event), nc=nc())

    @durable_subscriber(
        broker,
        event_filter(EventType.TRADE_EXECUTED),
        stream=EVENTS,
        durable=durable_name(prefix, "wallet-registry-trades"),
        batch_size=1,
        # One at a time, in stream order: counters apply each trade once, above the last sequence seen.
        config=consumer_config(max_ack_pending=1),
    )
    async def trade_executed(event: Event, msg: NatsMessage) -> None:
        await settle(msg, caches.on_trade_executed(event), nc=nc())
