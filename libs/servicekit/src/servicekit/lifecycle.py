"""The lifecycle every service shares: Mongo and a NATS broker, the streams its consumers bind to created
before subscribers start, the outbox relay, background tasks, and the FastStream app for the process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any, ClassVar

import structlog
from faststream import FastStream
from faststream.nats import NatsBroker
from pymongo.asynchronous.collection import AsyncCollection

from servicekit.consumers import ensure_dead_letter_stream
from servicekit.correlation import CorrelationMiddleware
from servicekit.events import ensure_events_stream
from servicekit.mongo import Document, connect, database
from servicekit.outbox import OutboxRelay
from servicekit.rpc import error_replies
from servicekit.settings import ServiceSettings


class ServiceRuntime:
    """``start``/``stop`` for tests, ``app()`` for the process. Subclasses set ``outbox`` (the collection
    whose documents carry pending events) and may override ``setup`` and ``on_started``."""

    name: ClassVar[str] = "service"
    outbox: AsyncCollection[Document]

    def __init__(self, settings: ServiceSettings, database_name: str) -> None:
        self.settings = settings
        self.log = structlog.get_logger(self.name)
        self.mongo = connect(settings.mongodb_url, app_name=self.name)
        self.db = database(self.mongo, database_name)
        self.broker = NatsBroker(
            settings.nats_servers,
            middlewares=[CorrelationMiddleware, error_replies()],
            name=self.name,
            logger=None,
            inbox_prefix=settings.nats_inbox_prefix,
        )
        self.relay: OutboxRelay | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def flush(self, doc_id: Any) -> None:
        """Relay a document's pending events right after its write (the periodic sweep is the safety net)."""
        if self.relay is not None:
            await self.relay.flush_quietly(doc_id)

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        self._tasks.append(asyncio.create_task(work))

    async def setup(self) -> None:
        """Indexes, seeds, extra streams: runs once NATS is connected, before subscribers start."""

    async def on_started(self) -> None:
        """Background work that needs the running broker (e.g. a timer)."""

    async def prepare(self) -> None:
        await self.broker.connect()
        # Durable consumers bind to these streams: they must exist before the subscribers start.
        await ensure_events_stream(self.broker.connection)
        await ensure_dead_letter_stream(self.broker.connection)
        await self.setup()

    async def started(self) -> None:
        # A round trip to the server: every subscription is registered there before we report ready,
        # so a request sent the moment start() returns finds its responders.
        await self.broker.connection.flush()
        self.relay = OutboxRelay(self.outbox, self.broker.connection)
        self.spawn(self.relay.run(self.settings.outbox_relay_interval))
        await self.on_started()
        self.log.info("ready", nats=self.settings.nats_servers_for_log, db=self.db.name)

    async def shutdown(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
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
