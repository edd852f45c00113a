"""The lifecycle every service shares: Mongo and a NATS broker, the streams its consumers bind to created
before subscribers start, the outbox relay, background tasks, the operations endpoint (``/metrics``,
``/healthz``, ``/readyz``; on when ``METRICS_PORT`` is set) and the FastStream app for the process."""

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
from servicekit.metrics import RequestErrors, SubjectPatterns, broker_metrics, new_registry
from servicekit.mongo import Document, connect, database
from servicekit.outbox import BeforePublish, OutboxRelay
from servicekit.probes import Check, NotReady, ProbeApp, ProbeServer, port_file_path
from servicekit.rpc import error_replies
from servicekit.settings import ServiceSettings


class ServiceRuntime:
    """``start``/``stop`` for tests, ``app()`` for the process. Subclasses set ``outbox`` (the collection
    whose documents carry pending events) and may override ``setup`` and ``on_started``; their business
    metrics go into ``self.registry``, which ``/metrics`` serves."""

    name: ClassVar[str] = "service"
    outbox: AsyncCollection[Document]

    def __init__(self, settings: ServiceSettings, database_name: str) -> None:
        self.settings = settings
        self.log = structlog.get_logger(self.name)
        self.mongo = connect(settings.mongodb_url, app_name=self.name)
        self.db = database(self.mongo, database_name)
        self.registry = new_registry()
        self.request_errors = request_errors = RequestErrors(self.registry)
        self.broker = NatsBroker(
            settings.nats_servers,
            middlewares=[
                CorrelationMiddleware,
                error_replies(lambda: self.broker.connection, request_errors.observe),
            ],
            name=self.name,
            logger=None,
            inbox_prefix=settings.nats_inbox_prefix,
        )
        # Outermost: it sees each message's final ack status; error replies are counted by request_errors.
        self.broker.insert_middleware(broker_metrics(self.registry, self.name, SubjectPatterns(self.broker)))
        self.relay: OutboxRelay | None = None
        self.before_relay: BeforePublish | None = None  # the service's projections, run before each relay
        self._tasks: list[asyncio.Task[None]] = []
        self._ready = False
        self.probes: ProbeServer | None = None

    async def flush(self, doc_id: Any) -> None:
        """Relay a document's pending events right after its write (the periodic sweep is the safety net)."""
        if self.relay is not None:
            await self.relay.flush_quietly(doc_id)

    async def relay_committed(self, doc_id: Any, entries: list[Document]) -> None:
        """Relay entries just committed to a document's outbox, without reading them back."""
        if self.relay is not None:
            await self.relay.relay_quietly(doc_id, entries)

    async def relay_many_committed(self, committed: list[tuple[Any, list[Document]]]) -> None:
        """``relay_committed`` for a batch of documents written together (one ``$pull`` for all)."""
        if self.relay is not None:
            await self.relay.relay_many_quietly(committed)

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        self._tasks.append(asyncio.create_task(work))

    async def setup(self) -> None:
        """Indexes, seeds, extra streams: runs once NATS is connected, before subscribers start."""

    async def on_started(self) -> None:
        """Background work that needs the running broker (e.g. a timer)."""

    def readiness_checks(self) -> dict[str, Check]:
        """What ``/readyz`` requires: started (subscriptions registered), NATS connected, Mongo answering."""
        return {"service": self._check_started, "nats": self._check_nats, "mongo": self._check_mongo}

    async def _check_started(self) -> None:
        if not self._ready:
            raise NotReady("starting")

    async def _check_nats(self) -> None:
        try:
            connected = self.broker.connection.is_connected
        except Exception:  # not connected yet: the broker has no connection to ask
            connected = False
        if not connected:
            raise NotReady("down")

    async def _check_mongo(self) -> None:
        await self.mongo.admin.command("ping")

    async def _start_probes(self) -> None:
        s = self.settings
        if s.metrics_port is None or self.probes is not None:
            return
        port_file = port_file_path(s.metrics_port_file, self.name) if s.metrics_port_file else None
        app = ProbeApp(self.registry, self.readiness_checks(), s.readiness_timeout)
        self.probes = ProbeServer(app, host=s.metrics_host, port=s.metrics_port, port_file=port_file)
        await self.probes.start()

    async def prepare(self) -> None:
        # First: /healthz answers (and /readyz says "starting") while the service connects and sets up.
        await self._start_probes()
        await self.broker.connect()
        # Durable consumers bind to these streams: they must exist before the subscribers start.
        await ensure_events_stream(self.broker.connection)
        await ensure_dead_letter_stream(self.broker.connection)
        await self.setup()

    async def started(self) -> None:
        # A round trip to the server: every subscription is registered there before we report ready,
        # so a request sent the moment start() returns finds its responders.
        await self.broker.connection.flush()
        self.relay = OutboxRelay(self.outbox, self.broker.connection, before_publish=self.before_relay)
        self.spawn(self.relay.run(self.settings.outbox_relay_interval))
        await self.on_started()
        self._ready = True
        self.log.info("ready", nats=self.settings.nats_servers_for_log, db=self.db.name)

    async def shutdown(self) -> None:
        self._ready = False
        if self.probes is not None:
            await self.probes.stop()
            self.probes = None
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
        try:
            await self.broker.stop()
        except Exception as exc:  # e.g. NATS is gone and the client is mid-reconnect: just close
            self.log.warning("nats_close_failed", error=type(exc).__name__)
            await self.broker.connection.close()
        finally:
            await self.shutdown()

    def app(self) -> FastStream:
        return FastStream(
            self.broker, on_startup=[self.prepare], after_startup=[self.started], on_shutdown=[self.shutdown]
        )
