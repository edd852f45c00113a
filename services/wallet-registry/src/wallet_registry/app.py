"""Composition root: settings → Mongo, cipher, store, broker, outbox relay → a FastStream app."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from bson import ObjectId
from faststream import FastStream
from faststream.nats import NatsBroker

from contracts.errors import ServiceError
from contracts.exchange import SyncAccount
from contracts.replies import Empty
from contracts.subjects import Exchange
from servicekit import logs
from servicekit.bus import ServiceBus
from servicekit.consumers import ensure_dead_letter_stream
from servicekit.events import ensure_events_stream
from servicekit.mongo import connect, database
from servicekit.outbox import OutboxRelay
from servicekit.rpc import error_replies
from wallet_registry.caches import RegistryCaches
from wallet_registry.crypto import CredentialCipher
from wallet_registry.domain.catalog import CATALOG
from wallet_registry.handlers import register
from wallet_registry.service import RegistryService
from wallet_registry.settings import RegistrySettings
from wallet_registry.store import RegistryStore

SERVICE = "wallet-registry"
log = structlog.get_logger(SERVICE)


class RegistryRuntime:
    """Everything the service runs; ``start``/``stop`` for tests, ``app()`` for the process."""

    def __init__(self, settings: RegistrySettings) -> None:
        self.settings = settings
        self.cipher = CredentialCipher.from_env_value(settings.encryption_keys.get_secret_value())
        self.mongo = connect(settings.mongodb_url, app_name=SERVICE)
        self.store = RegistryStore(database(self.mongo, settings.database_name))
        self.broker = NatsBroker(
            settings.nats_servers, middlewares=[error_replies()], name=SERVICE, logger=None
        )
        self.relay: OutboxRelay | None = None
        self.bus = ServiceBus(self.broker, timeout=settings.demo_sync_timeout)
        self.service = RegistryService(self.store, self.cipher, self._flush, self._sync_demo_account)
        self.service.use_wallet_deps(bus=self.bus)
        self._sweeper: asyncio.Task[None] | None = None
        self.caches = RegistryCaches(self.store, self.cipher)
        register(
            self.broker,
            self.service,
            self.caches,
            workers=settings.request_workers,
            prefix=settings.mongodb_db_prefix,
            nc=lambda: self.broker.connection,
        )

    async def _flush(self, wallet_id: ObjectId) -> None:
        if self.relay is not None:
            await self.relay.flush_quietly(wallet_id)

    async def _sync_demo_account(self, cmd: SyncAccount) -> None:
        try:
            await self.bus.request(Exchange.ACCOUNTS_SYNC, cmd, Empty)
        except ServiceError as exc:  # demo-exchange catches up from evt.wallet.* when it can
            log.warning("demo_account_sync_deferred", wallet_id=cmd.wallet.id, code=exc.code.value)

    async def prepare(self) -> None:
        await self.broker.connect()
        # The durable consumers bind to MONIQO_EVENTS, so it must exist before subscribers start.
        await ensure_events_stream(self.broker.connection)
        await ensure_dead_letter_stream(self.broker.connection)
        await self.store.ensure_indexes()
        seeded = await self.store.seed_providers(CATALOG)
        log.info("catalog_seeded", inserted=seeded)

    async def started(self) -> None:
        self.relay = OutboxRelay(self.store.user_wallets, self.broker.connection)
        self._sweeper = asyncio.create_task(self.relay.run(self.settings.outbox_relay_interval))
        log.info("ready", nats=self.settings.nats_servers, db=self.settings.database_name)

    async def shutdown(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        await self.mongo.close()

    async def start(self) -> None:
        await self.prepare()
        await self.broker.start()
        await self.started()

    async def stop(self) -> None:
        await self.broker.stop()
        await self.shutdown()

    def app(self) -> FastStream:
        return FastStream(
            self.broker,
            on_startup=[self.prepare],
            after_startup=[self.started],
            on_shutdown=[self.shutdown],
        )


async def main() -> None:
    settings = RegistrySettings()
    logs.configure(settings.log_level, settings.log_format, SERVICE)
    await RegistryRuntime(settings).app().run()
