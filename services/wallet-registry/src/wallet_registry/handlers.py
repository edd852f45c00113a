"""Request/reply subscribers (queue group ``wallet-registry``): decode → service → reply."""

from __future__ import annotations

from typing import Any

from faststream.nats import NatsBroker

from contracts.replies import Reply
from contracts.subjects import QueueGroup, Registry
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
from servicekit.rpc import ok
from wallet_registry.service import RegistryService

QUEUE = QueueGroup.WALLET_REGISTRY.value


def register(broker: NatsBroker, service: RegistryService, *, workers: int) -> None:
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
