"""Composition root: settings → Mongo, cipher, store, broker, outbox relay → a FastStream app."""

from __future__ import annotations

from contracts.errors import ServiceError
from contracts.exchange import SyncAccount
from contracts.replies import Empty
from contracts.subjects import Exchange
from servicekit import logs
from servicekit.bus import ServiceBus
from servicekit.lifecycle import ServiceRuntime
from wallet_registry.caches import RegistryCaches
from wallet_registry.crypto import CredentialCipher
from wallet_registry.domain.catalog import CATALOG
from wallet_registry.handlers import register
from wallet_registry.service import RegistryService
from wallet_registry.settings import RegistrySettings
from wallet_registry.store import RegistryStore

SERVICE = "wallet-registry"


class RegistryRuntime(ServiceRuntime):
    name = SERVICE

    def __init__(self, settings: RegistrySettings) -> None:
        self.cipher = CredentialCipher.from_env_value(settings.encryption_keys.get_secret_value())
        super().__init__(settings, settings.database_name)
        self.store = RegistryStore(self.db)
        self.outbox = self.store.user_wallets
        self.bus = ServiceBus(self.broker, timeout=settings.demo_sync_timeout)
        self.service = RegistryService(self.store, self.cipher, self.flush, self._sync_demo_account)
        self.service.use_wallet_deps(bus=self.bus)
        self.caches = RegistryCaches(self.store, self.cipher)
        register(
            self.broker,
            self.service,
            self.caches,
            workers=settings.request_workers,
            prefix=settings.mongodb_db_prefix,
            nc=lambda: self.broker.connection,
        )

    async def _sync_demo_account(self, cmd: SyncAccount) -> None:
        try:
            await self.bus.request(Exchange.ACCOUNTS_SYNC, cmd, Empty)
        except ServiceError as exc:  # demo-exchange catches up from evt.wallet.* when it can
            self.log.warning("demo_account_sync_deferred", wallet_id=cmd.wallet.id, code=exc.code.value)

    async def setup(self) -> None:
        await self.store.ensure_indexes()
        seeded = await self.store.seed_providers(CATALOG)
        self.log.info("catalog_seeded", inserted=seeded)


async def main() -> None:
    settings = RegistrySettings()
    logs.configure(settings.log_level, settings.log_format, SERVICE)
    await RegistryRuntime(settings).app().run()
