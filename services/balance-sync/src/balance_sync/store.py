"""Repository over ``<prefix>_sync``: sync logs (TTL 30 days), per-wallet sync state with its outbox,
the last sweep, and wallets deleted upstream (for the daily clean-up of their logs)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from contracts.events import Event
from contracts.sync import SyncLog
from servicekit.cursors import decode_seq_cursor, encode_cursor
from servicekit.mongo import Document
from servicekit.outbox import OUTBOX_FIELD, OUTBOX_INDEX, outbox_entry

RETENTION_SECONDS = 30 * 24 * 3600
RECENT_KEYS = 50

LOG_INDEXES = [
    IndexModel([("user_wallet_id", ASCENDING), ("synced_at", DESCENDING)], name="wallet_newest"),
    IndexModel([("status", ASCENDING), ("synced_at", DESCENDING)], name="status_time"),
    IndexModel([("synced_at", ASCENDING)], expireAfterSeconds=RETENTION_SECONDS, name="ttl_30_days"),
]
STATE_INDEXES = [OUTBOX_INDEX]


class SyncStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db
        self.logs: AsyncCollection[Document] = db["wallet_sync_log"]
        self.state: AsyncCollection[Document] = db["sync_state"]
        self.meta: AsyncCollection[Document] = db["sync_meta"]
        self.deleted: AsyncCollection[Document] = db["deleted_wallets"]

    async def ensure_indexes(self) -> None:
        await self.logs.create_indexes(LOG_INDEXES)
        await self.state.create_indexes(STATE_INDEXES)

    # ---- per-wallet state ----

    async def load_state(self, wallet_id: str) -> Document:
        doc = await self.state.find_one({"_id": wallet_id}, {OUTBOX_FIELD: 0})
        return doc or {"_id": wallet_id, "version": 0, "seq": 0, "snapshot": None, "keys": []}

    async def commit(
        self, state: Document, *, snapshot: dict[str, Decimal] | None, key: str | None, event: Event
    ) -> bool:
        """The new snapshot, sequence and job key, with the synced event: one conditional write.
        False when another sync of this wallet wrote first (the caller reloads and decides again)."""
        fields: Document = {"user_id": event.user_id, "seq": event.sequence, "version": state["version"] + 1}
        if snapshot is not None:
            fields["snapshot"] = snapshot
        if state["version"] == 0:
            doc = {
                "_id": state["_id"],
                **fields,
                "keys": [key] if key else [],
                OUTBOX_FIELD: [outbox_entry(event)],
            }
            doc.setdefault("snapshot", None)
            try:
                await self.state.insert_one(doc)
            except DuplicateKeyError:
                return False
            return True
        push: Document = {OUTBOX_FIELD: outbox_entry(event)}
        if key is not None:
            push["keys"] = {"$each": [key], "$slice": -RECENT_KEYS}
        result = await self.state.update_one(
            {"_id": state["_id"], "version": state["version"]}, {"$set": fields, "$push": push}
        )
        return result.modified_count == 1

    # ---- logs ----

    async def save_log(self, log: SyncLog, *, user_id: str, key: str | None, seq: int) -> None:
        doc = {**log.model_dump(mode="python"), "_id": log.id, "user_id": user_id, "key": key, "seq": seq}
        doc.pop("id")
        await self.logs.replace_one({"_id": log.id}, doc, upsert=True)

    async def find_log_by_key(self, wallet_id: str, key: str) -> Document | None:
        return await self.logs.find_one({"user_wallet_id": wallet_id, "key": key})

    async def list_logs(
        self, wallet_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Document], str | None]:
        query: Document = {"user_wallet_id": wallet_id}
        if cursor is not None:
            query["seq"] = {"$lt": decode_seq_cursor(cursor)}
        docs = await self.logs.find(query).sort("seq", DESCENDING).limit(limit + 1).to_list()
        page = docs[:limit]
        return page, (encode_cursor(str(page[-1]["seq"])) if len(docs) > limit else None)

    async def count_logs(self, *, status: str, since: datetime) -> int:
        return await self.logs.count_documents({"status": status, "synced_at": {"$gte": since}})

    # ---- sweeps and clean-up ----

    async def record_sweep(self, window: int, at: datetime) -> None:
        await self.meta.update_one({"_id": "sweep"}, {"$max": {"window": window, "at": at}}, upsert=True)

    async def last_sweep(self) -> Document | None:
        return await self.meta.find_one({"_id": "sweep"})

    async def claim_maintenance_day(self, day: str) -> bool:
        """True for the first caller of a day (ISO dates compare as strings)."""
        try:
            result = await self.meta.update_one(
                {"_id": "maintenance", "day": {"$lt": day}}, {"$set": {"day": day}}, upsert=True
            )
        except DuplicateKeyError:
            return False  # this day (or a later one) is already claimed
        return result.modified_count == 1 or result.upserted_id is not None

    async def remember_deleted(self, wallet_id: str, deleted_at: datetime) -> None:
        await self.deleted.update_one(
            {"_id": wallet_id}, {"$setOnInsert": {"deleted_at": deleted_at}}, upsert=True
        )

    async def purge_deleted_before(self, cutoff: datetime) -> tuple[int, int]:
        """Remove logs and state of wallets deleted before ``cutoff``: (logs removed, wallets forgotten)."""
        gone = [d["_id"] async for d in self.deleted.find({"deleted_at": {"$lt": cutoff}}, {"_id": 1})]
        if not gone:
            return 0, 0
        logs = await self.logs.delete_many({"user_wallet_id": {"$in": gone}})
        await self.state.delete_many({"_id": {"$in": gone}})
        await self.deleted.delete_many({"_id": {"$in": gone}})
        return logs.deleted_count, len(gone)
