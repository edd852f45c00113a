"""Repository over ``moniqo_registry``: ``wallets`` (provider catalog) and ``user_wallets``."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from contracts.base import Page
from contracts.errors import ErrorCode, ServiceError
from contracts.wallets import RiskLimits, WalletDefinition
from servicekit.clock import now_ms
from servicekit.cursors import decode_cursor, encode_cursor
from servicekit.mongo import Document
from servicekit.outbox import OUTBOX_FIELD, OUTBOX_INDEX, outbox_entry
from wallet_registry.domain.catalog import ProviderSpec
from wallet_registry.domain.credentials import EncryptedCredentials
from wallet_registry.domain.wallets import Change, WalletRecord

# MongoDB rule relied on: partialFilterExpression accepts `$type` (and equality, `$exists: true`, ranges,
# `$and`), but not `$exists: false` / `$ne` / `$not` (MongoDB 7 manual, "Partial Indexes"). So every
# user wallet is stored with an explicit `deleted_at: null` until deleted, and "among non-deleted" is
# expressed as `{deleted_at: {$type: "null"}}`.
LIVE = {"deleted_at": {"$type": "null"}}
BalanceUpdate = tuple[str, dict[str, Decimal], datetime, int]
"""A sync's cached balance: (wallet id, totals per asset, synced at, balance-sync's sequence)."""

PROVIDER_INDEXES = [
    IndexModel([("slug", ASCENDING)], unique=True, name="uniq_slug"),
    IndexModel([("is_active", ASCENDING), ("integration_type", ASCENDING)], name="active_type"),
    IndexModel([("deleted_at", ASCENDING)], name="deleted_at"),
]
USER_WALLET_INDEXES = [
    IndexModel([("user_id", ASCENDING), ("is_active", ASCENDING)], name="user_active"),
    IndexModel([("wallet_provider_id", ASCENDING)], name="provider"),
    IndexModel(
        [("user_id", ASCENDING), ("custom_name", ASCENDING)],
        unique=True,
        partialFilterExpression=LIVE,
        name="uniq_live_name",
    ),
    IndexModel([("deleted_at", ASCENDING)], name="deleted_at"),
    IndexModel(
        [("user_id", ASCENDING), ("create_command_id", ASCENDING)],
        unique=True,
        partialFilterExpression={"create_command_id": {"$type": "string"}},
        name="uniq_create_command",
    ),
    IndexModel([("user_id", ASCENDING), ("_id", DESCENDING)], name="user_newest"),
    IndexModel([("is_active", ASCENDING), ("_id", ASCENDING)], name="active_sweep"),
    OUTBOX_INDEX,
]


RECENT_COMMANDS = 50


def _oid(value: str) -> ObjectId | None:
    return ObjectId(value) if ObjectId.is_valid(value) and len(value) == 24 else None


def provider_from_doc(doc: Document) -> WalletDefinition:
    return WalletDefinition(
        id=str(doc["_id"]),
        name=doc["name"],
        slug=doc["slug"],
        integration_type=doc["integration_type"],
        is_demo=doc["is_demo"],
        is_active=doc["is_active"],
        required_credentials=doc["required_credentials"],
        supported_symbols=doc["supported_symbols"],
        description=doc["description"],
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
    )


def wallet_from_doc(doc: Document) -> WalletRecord:
    return WalletRecord(
        id=str(doc["_id"]),
        user_id=doc["user_id"],
        provider_id=str(doc["wallet_provider_id"]),
        provider_slug=doc["provider_slug"],
        custom_name=doc["custom_name"],
        is_active=doc["is_active"],
        is_demo=doc["is_demo"],
        credentials=EncryptedCredentials(dict(doc.get("credentials") or {})),
        balance=dict(doc.get("balance") or {}),
        risk_limits=RiskLimits.model_validate(doc.get("risk_limits") or {}),
        total_trades=doc.get("total_trades", 0),
        total_pnl=doc.get("total_pnl", 0),
        last_synced_at=doc.get("last_synced_at"),
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        deleted_at=doc.get("deleted_at"),
        version=doc["version"],
        event_seq=doc["event_seq"],
    )


def _state_fields(wallet: WalletRecord) -> Document:
    """The fields a change may set (everything but identity)."""
    return {
        "custom_name": wallet.custom_name,
        "is_active": wallet.is_active,
        "credentials": dict(wallet.credentials.tokens),
        "risk_limits": wallet.risk_limits.model_dump(mode="python"),
        "updated_at": wallet.updated_at,
        "deleted_at": wallet.deleted_at,
        "version": wallet.version,
        "event_seq": wallet.event_seq,
    }


def wallet_to_doc(wallet: WalletRecord) -> Document:
    doc = {
        "_id": ObjectId(wallet.id),
        "user_id": wallet.user_id,
        "wallet_provider_id": ObjectId(wallet.provider_id),
        "provider_slug": wallet.provider_slug,
        "is_demo": wallet.is_demo,
        "balance": wallet.balance,
        "total_trades": wallet.total_trades,
        "total_pnl": wallet.total_pnl,
        "last_synced_at": wallet.last_synced_at,
        "created_at": wallet.created_at,
        "trade_seq": 0,  # last demo-exchange event sequence applied to total_trades / total_pnl
        "sync_seq": 0,  # last balance-sync event sequence applied to balance / last_synced_at
        "positions": {},
    }
    doc.update(_state_fields(wallet))
    return doc


class RegistryStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db
        self.providers: AsyncCollection[Document] = db["wallets"]
        self.user_wallets: AsyncCollection[Document] = db["user_wallets"]

    async def ensure_indexes(self) -> None:
        await self.providers.create_indexes(PROVIDER_INDEXES)
        await self.user_wallets.create_indexes(USER_WALLET_INDEXES)

    async def seed_providers(self, catalog: tuple[ProviderSpec, ...]) -> int:
        """Insert missing catalog entries; existing ones (and operators' edits to them) are left alone."""
        inserted = 0
        for spec in catalog:
            now = now_ms()
            doc = {
                **asdict(spec),
                "integration_type": spec.integration_type.value,
                "required_credentials": list(spec.required_credentials),
                "supported_symbols": list(spec.supported_symbols),
                "is_demo": spec.is_demo,
                "is_active": True,
                "created_at": now,
                "updated_at": now,
                "deleted_at": None,
            }
            try:
                result = await self.providers.update_one(
                    {"slug": spec.slug}, {"$setOnInsert": doc}, upsert=True
                )
            except DuplicateKeyError:  # another instance seeded it at the same moment
                continue
            inserted += 1 if result.upserted_id is not None else 0
        return inserted

    # ---- providers ----

    async def list_providers(
        self, *, integration_type: str | None, is_demo: bool | None, limit: int, cursor: str | None
    ) -> Page[WalletDefinition]:
        query: Document = {**LIVE}
        if integration_type is not None:
            query["integration_type"] = integration_type
        if is_demo is not None:
            query["is_demo"] = is_demo
        if cursor is not None:
            query["slug"] = {"$gt": decode_cursor(cursor)}
        docs = await self.providers.find(query).sort("slug", ASCENDING).limit(limit + 1).to_list()
        items = [provider_from_doc(d) for d in docs[:limit]]
        next_cursor = encode_cursor(items[-1].slug) if len(docs) > limit else None
        return Page[WalletDefinition](items=items, next_cursor=next_cursor)

    async def get_provider(self, ref: str, *, include_deleted: bool = False) -> WalletDefinition | None:
        oid = _oid(ref)
        query: Document = {"_id": oid} if oid is not None else {"slug": ref}
        doc = await self.providers.find_one(query if include_deleted else {**query, **LIVE})
        return provider_from_doc(doc) if doc else None

    # ---- user wallets ----

    async def insert_wallet(self, change: Change, *, command_id: str, fingerprint: str) -> None:
        doc = wallet_to_doc(change.wallet)
        doc["create_command_id"] = command_id
        doc["create_fingerprint"] = fingerprint
        doc[OUTBOX_FIELD] = [outbox_entry(change.event)]
        try:
            await self.user_wallets.insert_one(doc)
        except DuplicateKeyError as exc:
            raise _classify_duplicate(exc) from None

    async def find_by_create_command(self, user_id: str, command_id: str) -> Document | None:
        return await self.user_wallets.find_one({"user_id": user_id, "create_command_id": command_id})

    async def get_wallets(self, wallet_ids: list[str]) -> dict[str, WalletRecord]:
        """Live wallets by id, in one read (the caller checks each one's owner)."""
        oids = [oid for w in dict.fromkeys(wallet_ids) if (oid := _oid(w)) is not None]
        if not oids:
            return {}
        docs = await self.user_wallets.find({"_id": {"$in": oids}, **LIVE}).to_list()
        return {str(d["_id"]): wallet_from_doc(d) for d in docs}

    async def get_providers(self, provider_ids: list[str]) -> dict[str, WalletDefinition]:
        """Providers by id, deleted ones included (a wallet keeps its provider), in one read."""
        oids = [oid for p in dict.fromkeys(provider_ids) if (oid := _oid(p)) is not None]
        if not oids:
            return {}
        docs = await self.providers.find({"_id": {"$in": oids}}).to_list()
        return {str(d["_id"]): provider_from_doc(d) for d in docs}

    async def get_wallet(self, user_id: str, wallet_id: str) -> WalletRecord | None:
        oid = _oid(wallet_id)
        if oid is None:
            return None
        doc = await self.user_wallets.find_one({"_id": oid, "user_id": user_id, **LIVE})
        return wallet_from_doc(doc) if doc else None

    async def list_wallets(
        self, user_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[WalletRecord], str | None]:
        query: Document = {"user_id": user_id, **LIVE}
        if cursor is not None:
            after = _oid(decode_cursor(cursor))
            if after is None:
                raise ServiceError(ErrorCode.VALIDATION_ERROR, "cursor is not one this API returned")
            query["_id"] = {"$lt": after}
        docs = await self.user_wallets.find(query).sort("_id", DESCENDING).limit(limit + 1).to_list()
        wallets = [wallet_from_doc(d) for d in docs[:limit]]
        return wallets, (encode_cursor(wallets[-1].id) if len(docs) > limit else None)

    async def command_applied(self, user_id: str, wallet_id: str, command_id: str) -> bool:
        """True when this wallet (live or deleted) already took the command with this id."""
        oid = _oid(wallet_id)
        if oid is None:
            return False
        query = {"_id": oid, "user_id": user_id, "recent_commands": command_id}
        return await self.user_wallets.count_documents(query, limit=1) > 0

    async def save_change(self, change: Change, *, expected_version: int, command_id: str) -> bool:
        """Write a change and its event in one conditional update; False if someone changed it first."""
        update: dict[str, Any] = {
            "$set": _state_fields(change.wallet),
            "$push": {
                OUTBOX_FIELD: outbox_entry(change.event),
                # The last commands applied, so a retried PUT/DELETE returns instead of re-applying.
                "recent_commands": {"$each": [command_id], "$slice": -RECENT_COMMANDS},
            },
        }
        try:
            result = await self.user_wallets.update_one(
                {"_id": ObjectId(change.wallet.id), "version": expected_version, **LIVE}, update
            )
        except DuplicateKeyError as exc:
            raise _classify_duplicate(exc) from None
        return result.modified_count == 1


class CacheStore:
    """The registry's caches of other services' facts: balances from syncs, trade counters and PnL."""

    def __init__(self, user_wallets: AsyncCollection[Document]) -> None:
        self.user_wallets = user_wallets

    async def apply_balances(self, updates: list[BalanceUpdate]) -> None:
        """Synced balances in one unordered bulk write: the newest sync by balance-sync's own sequence wins;
        an older or replayed one changes nothing."""
        ops = [
            UpdateOne(
                {"_id": oid, "sync_seq": {"$lt": sequence}},
                {"$set": {"balance": balance, "last_synced_at": synced_at, "sync_seq": sequence}},
            )
            for wallet_id, balance, synced_at, sequence in updates
            if (oid := _oid(wallet_id)) is not None
        ]
        if ops:
            await self.user_wallets.bulk_write(ops, ordered=False)

    async def load_trading(self, wallet_id: str) -> Document | None:
        oid = _oid(wallet_id)
        if oid is None:
            return None
        return await self.user_wallets.find_one(
            {"_id": oid}, {"trade_seq": 1, "positions": 1, "total_trades": 1, "total_pnl": 1}
        )

    async def save_trading(self, doc: Document, *, seq: int, positions: Document, pnl: Decimal) -> bool:
        """Conditional on the sequence read: a replay or a concurrent apply of the same event loses."""
        result = await self.user_wallets.update_one(
            {"_id": doc["_id"], "trade_seq": doc.get("trade_seq", 0)},
            {
                "$set": {"trade_seq": seq, "positions": positions, "total_pnl": pnl},
                "$inc": {"total_trades": 1},
            },
        )
        return result.modified_count == 1

    async def list_active(self, *, limit: int, after: str | None) -> list[Document]:
        query: Document = {"is_active": True, **LIVE}
        if after is not None:
            oid = _oid(after)
            if oid is None:
                raise ServiceError(ErrorCode.VALIDATION_ERROR, "cursor is not one this API returned")
            query["_id"] = {"$gt": oid}
        return (
            await self.user_wallets.find(query, {"user_id": 1})
            .sort("_id", ASCENDING)
            .limit(limit + 1)
            .to_list()
        )


def _classify_duplicate(exc: DuplicateKeyError) -> Exception:
    pattern = (exc.details or {}).get("keyPattern") or {}
    if "custom_name" in pattern or "uniq_live_name" in str(exc):
        return ServiceError(ErrorCode.DUPLICATE_NAME, "you already have a wallet with this custom_name")
    return exc
