"""Repository over ``<prefix>_sync``: sync logs (TTL 30 days), per-wallet sync state with its outbox,
the last sweep, and wallets deleted upstream (for the daily clean-up of their logs)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pymongo import ASCENDING, DESCENDING, IndexModel, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

from contracts.events import Event
from contracts.sync import SyncLog
from servicekit.cursors import decode_seq_cursor, encode_cursor
from servicekit.mongo import DUPLICATE_KEY, Document, insert_new
from servicekit.outbox import OUTBOX_FIELD, OUTBOX_INDEX

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
        return doc or new_state(wallet_id)

    async def load_states(self, wallet_ids: list[str]) -> dict[str, Document]:
        """``load_state`` of many wallets in one read."""
        docs = {d["_id"]: d async for d in self.state.find({"_id": {"$in": wallet_ids}}, {OUTBOX_FIELD: 0})}
        return {w: docs.get(w) or new_state(w) for w in wallet_ids}

    async def commit_many(self, commits: list[Commit]) -> list[bool | Exception]:
        """``commit`` of many wallets (one each) in one unordered bulk write: per commit True, False when
        another sync of that wallet wrote first, or the write's own error. Each is an upsert filtered on
        the version read: when that wallet's document has moved on, the upsert's insert collides on
        ``_id`` (duplicate key) — that is the "lost" answer, told apart per commit by its index."""
        if not commits:
            return []
        ops = [_commit_op(c) for c in commits]
        outcomes: list[bool | Exception] = [True] * len(ops)
        try:
            await self.state.bulk_write(ops, ordered=False)
        except BulkWriteError as exc:
            for error in exc.details.get("writeErrors", []):
                index, code = int(error["index"]), int(error.get("code", 0))
                outcomes[index] = (
                    False if code == DUPLICATE_KEY else OperationFailure(error.get("errmsg"), code)
                )
        return outcomes

    # ---- logs ----

    async def save_logs(self, logs: list[LogEntry]) -> None:
        """Many new logs in one unordered insert; one already written (by the history) is left as it is
        (a log's id is its event's id, so both writers hold the same content)."""
        if not logs:
            return
        docs = [_log_doc(log, user_id=user_id, key=key, seq=seq) for log, user_id, key, seq in logs]
        await insert_new(self.logs, docs)

    async def existing_logs(self, log_ids: list[str]) -> set[str]:
        return {d["_id"] async for d in self.logs.find({"_id": {"$in": log_ids}}, {"_id": 1})}

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


Commit = tuple[Document, dict[str, Decimal] | None, str | None, Event, Document]
"""One wallet's commit: (the state read, the new snapshot or None for a failed sync, job key, event, the
event's outbox entry)."""
LogEntry = tuple[SyncLog, str, str | None, int]
"""A log to write: (the log, user id, job key, sequence)."""


def new_state(wallet_id: str) -> Document:
    return {"_id": wallet_id, "version": 0, "seq": 0, "snapshot": None, "keys": []}


def _commit_op(commit: Commit) -> UpdateOne:
    state, snapshot, key, event, entry = commit
    fields: Document = {"user_id": event.user_id, "seq": event.sequence, "version": state["version"] + 1}
    on_insert: Document = {}
    if snapshot is not None:
        fields["snapshot"] = snapshot
    else:
        on_insert["snapshot"] = None  # a first sync that failed: no snapshot yet
    push: Document = {OUTBOX_FIELD: entry}
    if key is not None:
        push["keys"] = {"$each": [key], "$slice": -RECENT_KEYS}
    else:
        on_insert["keys"] = []
    update: Document = {"$set": fields, "$push": push}
    if on_insert:
        update["$setOnInsert"] = on_insert
    return UpdateOne({"_id": state["_id"], "version": state["version"]}, update, upsert=True)


def _log_doc(log: SyncLog, *, user_id: str, key: str | None, seq: int) -> Document:
    doc = {**log.model_dump(mode="python"), "_id": log.id, "user_id": user_id, "key": key, "seq": seq}
    doc.pop("id")
    return doc
