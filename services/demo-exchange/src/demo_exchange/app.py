"""Composition root of demo-exchange: settings → Mongo, store, engine, broker, relay → FastStream app."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from faststream import FastStream
from faststream.nats import NatsBroker

from demo_exchange.domain.matching import Engine
from demo_exchange.handlers import register
from demo_exchange.prices import PriceBook
from demo_exchange.service import ExchangeService
from demo_exchange.settings import ExchangeSettings
from demo_exchange.store import ExchangeStore
from servicekit import logs
from servicekit.consumers import ensure_dead_letter_stream
from servicekit.events import ensure_events_stream
from servicekit.mongo import connect, database
from servicekit.outbox import OutboxRelay
from servicekit.rpc import error_replies

SERVICE = "demo-exchange"
log = structlog.get_logger(SERVICE)


class ExchangeRuntime:
    def __init__(self, settings: ExchangeSettings) -> None:
        self.settings = settings
        self.mongo = connect(settings.mongodb_url, app_name=SERVICE)
        self.store = ExchangeStore(database(self.mongo, settings.database_name))
        self.broker = NatsBroker(
            settings.nats_servers, middlewares=[error_replies()], name=SERVICE, logger=None
        )
        self.relay: OutboxRelay | None = None
        self.service = ExchangeService(
            self.store, Engine(slippage=settings.slippage), settings.instruments(), PriceBook(), self._flush
        )
        self._sweeper: asyncio.Task[None] | None = None
        register(
            self.broker,
            self.service,
            workers=settings.request_workers,
            tick_workers=settings.tick_workers,
            prefix=settings.mongodb_db_prefix,
            nc=lambda: self.broker.connection,
        )

    async def _flush(self, wallet_id: str) -> None:
        if self.relay is not None:
            await self.relay.flush_quietly(wallet_id)

    async def prepare(self) -> None:
        await self.store.ensure_indexes()
        await self.service.warm_prices()
        await self.broker.connect()
        # The durable consumers bind to MONIQO_EVENTS, so it must exist before subscribers start.
        await ensure_events_stream(self.broker.connection)
        await ensure_dead_letter_stream(self.broker.connection)

    async def started(self) -> None:
        self.relay = OutboxRelay(self.store.state, self.broker.connection)
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
            self.broker, on_startup=[self.prepare], after_startup=[self.started], on_shutdown=[self.shutdown]
        )


async def main() -> None:
    settings = ExchangeSettings()
    logs.configure(settings.log_level, settings.log_format, SERVICE)
    await ExchangeRuntime(settings).app().run()
