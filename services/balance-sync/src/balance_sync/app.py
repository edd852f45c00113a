"""Composition root of balance-sync: settings → Mongo, store, broker, streams, timer, relay → app."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from faststream import FastStream
from faststream.nats import NatsBroker
from nats.aio.client import Client

from balance_sync.handlers import register
from balance_sync.service import SyncService
from balance_sync.settings import SyncSettings
from balance_sync.store import SyncStore
from balance_sync.streams import ensure_streams
from balance_sync.timer import Timer
from servicekit import logs
from servicekit.bus import ServiceBus
from servicekit.events import ensure_events_stream
from servicekit.mongo import connect, database
from servicekit.outbox import OutboxRelay
from servicekit.rpc import error_replies

SERVICE = "balance-sync"
log = structlog.get_logger(SERVICE)


class SyncRuntime:
    def __init__(self, settings: SyncSettings, *, timer: bool = True) -> None:
        self.settings = settings
        self.mongo = connect(settings.mongodb_url, app_name=SERVICE)
        self.store = SyncStore(database(self.mongo, settings.database_name))
        self.broker = NatsBroker(
            settings.nats_servers, middlewares=[error_replies()], name=SERVICE, logger=None
        )
        self.bus = ServiceBus(self.broker, timeout=settings.wallet_timeout)
        self.relay: OutboxRelay | None = None
        self.service = SyncService(self.store, self.bus, self._flush, wallet_timeout=settings.wallet_timeout)
        self._with_timer = timer
        self._tasks: list[asyncio.Task[None]] = []
        register(self.broker, self.service, settings, self._nc)

    def _nc(self) -> Client:
        return self.broker.connection

    async def _flush(self, wallet_id: str) -> None:
        if self.relay is not None:
            await self.relay.flush_quietly(wallet_id)

    async def prepare(self) -> None:
        await self.store.ensure_indexes()
        await self.broker.connect()
        # Durable consumers bind to these streams: they must exist before the subscribers start.
        await ensure_events_stream(self.broker.connection)
        await ensure_streams(
            self.broker.connection, self.settings.mongodb_db_prefix, self.settings.sync_interval
        )

    async def started(self) -> None:
        self.relay = OutboxRelay(self.store.state, self.broker.connection)
        self._tasks.append(asyncio.create_task(self.relay.run(self.settings.outbox_relay_interval)))
        if self._with_timer:
            timer = Timer(
                self.broker.connection,
                ns=self.settings.mongodb_db_prefix,
                interval=self.settings.sync_interval,
                tick=self.settings.tick,
            )
            self._tasks.append(asyncio.create_task(timer.run()))
        log.info("ready", interval=self.settings.sync_interval, db=self.settings.database_name)

    async def shutdown(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
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
    settings = SyncSettings()
    logs.configure(settings.log_level, settings.log_format, SERVICE)
    await SyncRuntime(settings).app().run()
