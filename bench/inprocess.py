"""demo-exchange's own service code in the bench process, on the same Mongo server as the platform, with
every store command counted by pymongo command monitoring.

Its events stay off the bus: the outbox relay is the real one (its Mongo commands are counted) but its
JetStream publisher acknowledges at once, so the benchmark's fake wallets never reach the platform's
consumers. Timings from here therefore leave out the NATS publish (~0.1 ms per event).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, cast

from nats.aio.client import Client
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient
from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent

from demo_exchange.metrics import ExchangeMetrics
from demo_exchange.service import ExchangeService
from demo_exchange.settings import ExchangeSettings
from demo_exchange.store import ExchangeStore
from servicekit.mongo import Document, database
from servicekit.outbox import OutboxRelay

IGNORED = {"hello", "ismaster", "isMaster", "endSessions", "ping", "buildInfo", "saslStart", "saslContinue"}


class CommandCounter(CommandListener):
    """Counts the commands sent to the server, by name (handshakes and heartbeats left out)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def started(self, event: CommandStartedEvent) -> None:
        if event.command_name not in IGNORED:
            self.counts[event.command_name] += 1

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass

    def total(self) -> int:
        return sum(self.counts.values())

    def reset(self) -> None:
        self.counts.clear()

    def snapshot(self) -> dict[str, int]:
        return dict(sorted(self.counts.items()))


class _Ack:
    duplicate = False


class _InstantJetStream:
    async def publish(self, subject: str, payload: bytes, headers: dict[str, str] | None = None) -> _Ack:
        return _Ack()


class _NoBus:
    def jetstream(self, **_: Any) -> _InstantJetStream:
        return _InstantJetStream()


@dataclass
class MonitoredExchange:
    client: AsyncMongoClient[Document]
    counter: CommandCounter
    store: ExchangeStore
    service: ExchangeService

    async def close(self) -> None:
        await self.client.drop_database(self.store.db.name)
        await self.client.close()


async def monitored_exchange(mongo_url: str, db_name: str) -> MonitoredExchange:
    counter = CommandCounter()
    client: AsyncMongoClient[Document] = AsyncMongoClient(
        mongo_url, document_class=dict, tz_aware=True, event_listeners=[counter], appname="bench"
    )
    store = ExchangeStore(database(client, db_name))
    await store.ensure_indexes()
    relay = OutboxRelay(store.state, cast(Client, _NoBus()))
    service = ExchangeService.configured(
        store, ExchangeSettings(), relay.relay_quietly, ExchangeMetrics(CollectorRegistry())
    )
    relay.before_publish = service.project_before_relay
    return MonitoredExchange(client, counter, store, service)
