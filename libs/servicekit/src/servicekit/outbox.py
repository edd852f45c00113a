"""Transactional outbox: events committed inside the state document, relayed to JetStream.

A state change and the events it causes are written in one atomic document write (the ``outbox``
array). The relay publishes each pending event with ``Nats-Msg-Id = event_id`` and only then pulls it
from the document, so a crash between commit and publish loses nothing and a re-publish is dropped
by the stream's duplicate window.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from nats.aio.client import Client
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection

from contracts.events import Event
from contracts.subjects import event_subject
from servicekit.mongo import Document

log = structlog.get_logger("outbox")

OUTBOX_FIELD = "outbox"
# Set on an event whose publisher applied it to its own history before relaying it: that service's
# history consumers, which exist to repair a projection lost to a crash, need not write it again.
PROJECTED_HEADER = "Moniqo-Projected"
BeforePublish = Callable[[list[Document]], Awaitable[None]]
OUTBOX_INDEX = IndexModel([(f"{OUTBOX_FIELD}.created_at", ASCENDING)], name="outbox_pending")


def outbox_entry(event: Event) -> Document:
    """What is stored in the state document for one pending event (the exact bytes to publish)."""
    return {
        "event_id": event.event_id,
        "subject": event_subject(event.event_type, event.wallet_id),
        "payload": event.model_dump_json(),
        "created_at": event.occurred_at,
    }


class OutboxRelay:
    """Publishes pending outbox entries of one collection to JetStream and removes them once acked."""

    def __init__(
        self,
        collection: AsyncCollection[Document],
        nc: Client,
        *,
        publish_timeout: float = 5.0,
        before_publish: BeforePublish | None = None,
    ):
        """``before_publish`` runs on every batch of entries before it is published and removed (the
        owner's projections); if it fails, the entries stay for the next flush or sweep."""
        self._collection = collection
        self._nc = nc
        self._timeout = publish_timeout
        self.before_publish = before_publish
        self.published = 0
        self.duplicates = 0

    async def publish_entries(self, entries: list[Document]) -> list[str]:
        """Publish entries in order; returns the ids JetStream acknowledged (new or duplicate)."""
        js = self._nc.jetstream(timeout=self._timeout)
        projected: dict[str, str] = {}
        if self.before_publish is not None:
            await self.before_publish(entries)
            projected = {PROJECTED_HEADER: "1"}
        acked: list[str] = []
        for entry in entries:
            ack = await js.publish(
                entry["subject"],
                entry["payload"].encode(),
                headers={"Nats-Msg-Id": entry["event_id"], **projected},
            )
            if ack.duplicate:
                self.duplicates += 1
            else:
                self.published += 1
            acked.append(entry["event_id"])
        return acked

    async def flush(self, doc_id: Any) -> int:
        """Relay whatever the document still holds; returns the number of entries relayed."""
        doc = await self._collection.find_one({"_id": doc_id}, {OUTBOX_FIELD: 1})
        entries: list[Document] = (doc or {}).get(OUTBOX_FIELD) or []
        return await self.relay(doc_id, entries)

    async def relay(self, doc_id: Any, entries: list[Document]) -> int:
        """Publish entries the caller knows the document holds (it just committed them), then pull them
        from it; entries already relayed by someone else are dropped as duplicates by the stream."""
        if not entries:
            return 0
        acked = await self.publish_entries(entries)
        await self._collection.update_one(
            {"_id": doc_id}, {"$pull": {OUTBOX_FIELD: {"event_id": {"$in": acked}}}}
        )
        return len(acked)

    async def relay_quietly(self, doc_id: Any, entries: list[Document]) -> None:
        """``relay`` after a command; a failure is logged and left to the periodic sweep."""
        try:
            await self.relay(doc_id, entries)
        except Exception as exc:  # the sweep retries; the command itself is already committed
            log.warning("outbox_relay_deferred", doc_id=str(doc_id), error=type(exc).__name__)

    async def relay_many(self, committed: list[tuple[Any, list[Document]]]) -> int:
        """``relay`` for many documents at once: the entries each just committed are published (a
        document's in order, documents side by side), then one ``$pull`` of every acknowledged id (event
        ids are unique). What a document held besides them is left to the sweep."""
        pending = [(doc_id, entries) for doc_id, entries in committed if entries]
        if not pending:
            return 0
        results = await asyncio.gather(
            *(self.publish_entries(entries) for _, entries in pending), return_exceptions=True
        )
        acked = [i for r in results if not isinstance(r, BaseException) for i in r]
        if acked:
            with_acked = [
                i for (i, _), r in zip(pending, results, strict=True) if not isinstance(r, BaseException)
            ]
            await self._collection.update_many(
                {"_id": {"$in": with_acked}}, {"$pull": {OUTBOX_FIELD: {"event_id": {"$in": acked}}}}
            )
        failed = next((r for r in results if isinstance(r, BaseException)), None)
        if failed is not None:
            raise failed
        return len(acked)

    async def relay_many_quietly(self, committed: list[tuple[Any, list[Document]]]) -> None:
        """``relay_many`` after a batch of commands; a failure is logged and left to the periodic sweep."""
        try:
            await self.relay_many(committed)
        except Exception as exc:  # the sweep retries; the commands themselves are already committed
            log.warning("outbox_relay_deferred", docs=len(committed), error=type(exc).__name__)

    async def flush_quietly(self, doc_id: Any) -> None:
        """Flush after a command; a failure is logged and left to the periodic sweep."""
        try:
            await self.flush(doc_id)
        except Exception as exc:  # the sweep retries; the command itself is already committed
            log.warning("outbox_flush_deferred", doc_id=str(doc_id), error=type(exc).__name__)

    async def sweep(self, *, older_than: timedelta = timedelta(seconds=1), limit: int = 200) -> int:
        """Relay entries older than ``older_than`` in any document (after a crash or a failed flush)."""
        cutoff = datetime.now(UTC) - older_than
        cursor = self._collection.find(
            {f"{OUTBOX_FIELD}.created_at": {"$lt": cutoff}}, {"_id": 1}, limit=limit
        )
        relayed = 0
        async for doc in cursor:
            relayed += await self.flush(doc["_id"])
        return relayed

    async def run(self, interval: float) -> None:
        """Sweep forever; every instance may run this (JetStream drops the duplicates)."""
        while True:
            try:
                relayed = await self.sweep()
                if relayed:
                    log.info("outbox_swept", relayed=relayed)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox_sweep_failed", error=type(exc).__name__, detail=str(exc)[:200])
            await asyncio.sleep(interval)
