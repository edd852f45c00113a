"""Composition root of balance-sync: settings → Mongo, store, broker, streams, timer, relay → app."""

from __future__ import annotations

from nats.aio.client import Client

from balance_sync.handlers import register
from balance_sync.metrics import SyncMetrics
from balance_sync.service import SyncService
from balance_sync.settings import SyncSettings
from balance_sync.store import SyncStore
from balance_sync.streams import ensure_streams
from balance_sync.timer import Timer
from servicekit import logs
from servicekit.bus import ServiceBus
from servicekit.lifecycle import ServiceRuntime

SERVICE = "balance-sync"


class SyncRuntime(ServiceRuntime):
    name = SERVICE

    def __init__(self, settings: SyncSettings, *, timer: bool = True) -> None:
        super().__init__(settings, settings.database_name)
        self.sync_settings = settings
        self.store = SyncStore(self.db)
        self.outbox = self.store.state
        self.bus = ServiceBus(self.broker, timeout=settings.wallet_timeout)
        self.service = SyncService(
            self.store,
            self.bus,
            self.relay_many_committed,
            SyncMetrics(self.registry),
            wallet_timeout=settings.wallet_timeout,
            batch_size=settings.sync_batch_size,
        )
        self._with_timer = timer
        register(self.broker, self.service, settings, self._nc)

    def _nc(self) -> Client:
        return self.broker.connection

    async def setup(self) -> None:
        await self.store.ensure_indexes()
        s = self.sync_settings
        await ensure_streams(self.broker.connection, s.mongodb_db_prefix, s.sync_interval)

    async def on_started(self) -> None:
        if self._with_timer:
            s = self.sync_settings
            timer = Timer(
                self.broker.connection, ns=s.mongodb_db_prefix, interval=s.sync_interval, tick=s.tick
            )
            self.spawn(timer.run())


async def main() -> None:
    settings = SyncSettings()
    logs.configure(settings.log_level, settings.log_format, SERVICE)
    await SyncRuntime(settings).app().run()
