"""Composition root of demo-exchange: settings → Mongo, store, engine, broker, relay → FastStream app."""

from __future__ import annotations

from demo_exchange.batch_reads import register_batch_reads
from demo_exchange.handlers import register
from demo_exchange.metrics import ExchangeMetrics
from demo_exchange.service import ExchangeService
from demo_exchange.settings import ExchangeSettings
from demo_exchange.store import ExchangeStore
from servicekit import logs
from servicekit.lifecycle import ServiceRuntime
from servicekit.rpc import MemoryResponder

SERVICE = "demo-exchange"


class ExchangeRuntime(ServiceRuntime):
    name = SERVICE

    def __init__(self, settings: ExchangeSettings) -> None:
        super().__init__(settings, settings.database_name)
        self.store = ExchangeStore(self.db)
        self.outbox = self.store.state
        self.service = ExchangeService.configured(
            self.store, settings, self.relay_committed, ExchangeMetrics(self.registry)
        )
        self.before_relay = self.service.project_before_relay
        # Market data and ping: answered off FastStream's per-message pipeline (bound in ``setup``).
        self.memory = MemoryResponder(self.broker, self.registry, SERVICE, self.request_errors.observe)
        register(
            self.broker,
            self.service,
            workers=settings.request_workers,
            tick_workers=settings.tick_workers,
            prefix=settings.mongodb_db_prefix,
            nc=lambda: self.broker.connection,
            memory=self.memory,
        )
        register_batch_reads(self.broker, self.store, workers=settings.request_workers)

    async def setup(self) -> None:
        await self.store.ensure_indexes()
        await self.service.warm_prices()
        await self.memory.bind()  # connected, subscribers not started yet


async def main() -> None:
    settings = ExchangeSettings()
    logs.configure(settings.log_level, settings.log_format, SERVICE)
    await ExchangeRuntime(settings).app().run()
