"""Use cases of the registry: load → pure domain → save (state + event in one write) → relay."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bson import ObjectId

from contracts.base import Page
from contracts.errors import ErrorCode, ServiceError
from contracts.exchange import SyncAccount
from contracts.wallets import (
    ConnectionTest,
    CreateUserWallet,
    DeleteUserWallet,
    GetProvider,
    GetUserWallet,
    ListProviders,
    ListUserWallets,
    TestConnection,
    UpdateUserWallet,
    UserWallet,
    WalletDefinition,
)
from servicekit import correlation
from servicekit.clock import now_ms
from wallet_registry.connection import probe
from wallet_registry.crypto import CredentialCipher
from wallet_registry.domain.credentials import EncryptedCredentials
from wallet_registry.domain.wallets import (
    Change,
    create_fingerprint,
    delete_wallet,
    open_wallet,
    require_usable_provider,
    update_wallet,
)
from wallet_registry.store import RegistryStore, wallet_from_doc

Flush = Callable[[ObjectId], Awaitable[None]]
DemoSync = Callable[[SyncAccount], Awaitable[None]]
MAX_ATTEMPTS = 5


def _not_found(wallet_id: str) -> ServiceError:
    return ServiceError(ErrorCode.WALLET_NOT_FOUND, f"wallet {wallet_id} not found")


class RegistryService:
    def __init__(
        self, store: RegistryStore, cipher: CredentialCipher, flush: Flush, demo_sync: DemoSync | None = None
    ) -> None:
        self.store = store
        self.cipher = cipher
        self._flush = flush
        self._demo_sync = demo_sync
        self._wallet_deps: dict[str, object] = {}

    def use_wallet_deps(self, **deps: object) -> None:
        """What wallet connectors need to talk to their venue (e.g. ``bus`` for DemoWallet)."""
        self._wallet_deps = deps

    async def _committed(self, change: Change) -> None:
        """After a change is committed: relay its event, and bring a demo wallet's account in line at once
        (demo-exchange also follows the event stream, so a failure here only delays it)."""
        await self._flush(ObjectId(change.wallet.id))
        if change.wallet.is_demo and self._demo_sync is not None:
            await self._demo_sync(
                SyncAccount(
                    registry_sequence=change.event.sequence,
                    wallet=change.wallet.public(),
                    deleted=change.wallet.deleted_at is not None,
                )
            )

    async def list_providers(self, cmd: ListProviders) -> Page[WalletDefinition]:
        return await self.store.list_providers(
            integration_type=cmd.integration_type.value if cmd.integration_type else None,
            is_demo=cmd.is_demo,
            limit=cmd.limit,
            cursor=cmd.cursor,
        )

    async def get_provider(self, cmd: GetProvider) -> WalletDefinition:
        provider = await self.store.get_provider(cmd.ref)
        if provider is None:
            raise ServiceError(ErrorCode.PROVIDER_NOT_FOUND, f"wallet provider '{cmd.ref}' not found")
        return provider

    async def create_wallet(self, cmd: CreateUserWallet) -> UserWallet:
        fingerprint = create_fingerprint(cmd.body)
        if (replayed := await self._replay(cmd, fingerprint)) is not None:
            return replayed
        provider = require_usable_provider(
            await self.store.get_provider(cmd.body.wallet_provider_id), cmd.body.wallet_provider_id
        )
        change = open_wallet(
            wallet_id=str(ObjectId()),
            user_id=cmd.user_id,
            provider=provider,
            body=cmd.body,
            credentials=self.cipher.encrypt(cmd.body.credentials or {}),
            now=now_ms(),
            correlation_id=correlation.or_default(cmd.command_id),
        )
        try:
            await self.store.insert_wallet(change, command_id=cmd.command_id, fingerprint=fingerprint)
        except Exception:
            # The same command raced itself (a retry while the first attempt was in flight): whichever
            # unique index fired first (name or command id), the first attempt's wallet is the answer.
            if (replayed := await self._replay(cmd, fingerprint)) is not None:
                return replayed
            raise
        await self._committed(change)
        return change.wallet.public()

    async def _replay(self, cmd: CreateUserWallet, fingerprint: str) -> UserWallet | None:
        doc = await self.store.find_by_create_command(cmd.user_id, cmd.command_id)
        if doc is None:
            return None
        if doc.get("create_fingerprint") != fingerprint:
            raise ServiceError(
                ErrorCode.IDEMPOTENCY_CONFLICT, "this idempotency key was already used with a different body"
            )
        if doc.get("deleted_at") is not None:
            # The key's wallet is gone: replaying it would answer with a deleted wallet, creating another
            # would break "one key, one wallet". A 409 (documented for this route) says so plainly.
            raise ServiceError(
                ErrorCode.IDEMPOTENCY_CONFLICT,
                "the wallet created with this idempotency key has since been deleted; use a new key",
            )
        return wallet_from_doc(doc).public()

    async def test_connection(self, cmd: TestConnection) -> ConnectionTest:
        wallet = await self.store.get_wallet(cmd.user_id, cmd.wallet_id)
        if wallet is None:
            raise _not_found(cmd.wallet_id)
        provider = await self.store.get_provider(wallet.provider_id, include_deleted=True)
        if provider is None:
            raise ServiceError(ErrorCode.INVALID_PROVIDER, "this wallet's provider no longer exists")
        return await probe(wallet, provider, self.cipher, **self._wallet_deps)

    async def list_wallets(self, cmd: ListUserWallets) -> Page[UserWallet]:
        wallets, cursor = await self.store.list_wallets(cmd.user_id, limit=cmd.limit, cursor=cmd.cursor)
        return Page[UserWallet](items=[w.public() for w in wallets], next_cursor=cursor)

    async def get_wallet(self, cmd: GetUserWallet) -> UserWallet:
        wallet = await self.store.get_wallet(cmd.user_id, cmd.wallet_id)
        if wallet is None:
            raise _not_found(cmd.wallet_id)
        return wallet.public()

    async def update_wallet(self, cmd: UpdateUserWallet) -> UserWallet:
        credentials: EncryptedCredentials | None = (
            self.cipher.encrypt(cmd.body.credentials) if cmd.body.credentials is not None else None
        )
        applied = await self.store.command_applied(cmd.user_id, cmd.wallet_id, cmd.command_id)
        for _ in range(MAX_ATTEMPTS):
            wallet = await self.store.get_wallet(cmd.user_id, cmd.wallet_id)
            if wallet is None:
                raise _not_found(cmd.wallet_id)
            if applied:  # a retry of an update that already happened: answer, do not re-apply
                return wallet.public()
            # A retired provider still lets its wallets be renamed, deactivated or re-keyed.
            provider = await self.store.get_provider(wallet.provider_id, include_deleted=True)
            if provider is None:
                raise ServiceError(ErrorCode.INVALID_PROVIDER, "this wallet's provider no longer exists")
            change = update_wallet(
                wallet,
                cmd.body,
                provider=provider,
                credentials=credentials,
                now=now_ms(),
                correlation_id=correlation.or_default(cmd.command_id),
            )
            if change is None:
                return wallet.public()
            if await self.store.save_change(
                change, expected_version=wallet.version, command_id=cmd.command_id
            ):
                await self._committed(change)
                return change.wallet.public()
        raise ServiceError(ErrorCode.CONCURRENT_MODIFICATION, "the wallet changed concurrently; try again")

    async def delete_wallet(self, cmd: DeleteUserWallet) -> None:
        for _ in range(MAX_ATTEMPTS):
            wallet = await self.store.get_wallet(cmd.user_id, cmd.wallet_id)
            if wallet is None:
                if await self.store.command_applied(cmd.user_id, cmd.wallet_id, cmd.command_id):
                    return  # a retry of the delete that already happened
                raise _not_found(cmd.wallet_id)
            change = delete_wallet(
                wallet, now=now_ms(), correlation_id=correlation.or_default(cmd.command_id)
            )
            if await self.store.save_change(
                change, expected_version=wallet.version, command_id=cmd.command_id
            ):
                await self._committed(change)
                return
        raise ServiceError(ErrorCode.CONCURRENT_MODIFICATION, "the wallet changed concurrently; try again")
