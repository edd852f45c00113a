"""Repository over ``<prefix>_exchange``: the account aggregates, order and trade history, last prices.

``demo_wallet_state`` holds one document per wallet: balances, open orders, what those orders watch
(``watch``: symbol, direction, level — multikey-indexed so a tick finds the wallets it triggers without
scanning), recent client order ids, a ``version`` for optimistic writes and the outbox of pending events.
``demo_orders`` / ``demo_trades`` are projections of the events, written idempotently by sequence.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from contracts.events import Event
from contracts.market import Tick
from contracts.orders import Order, OrderStatus, OrderType, Side, TimeInForce
from contracts.subjects import EventType, event_prefix
from contracts.values import OBJECT_ID
from contracts.wallets import RiskLimits
from demo_exchange.domain.account import Account, AccountStatus, RecentOrder
from demo_exchange.domain.ledger import Balance, Ledger
from demo_exchange.domain.matching import Fill
from demo_exchange.domain.orders import Direction, OrderState
from servicekit.cursors import decode_cursor, encode_cursor
from servicekit.mongo import Document, insert_new
from servicekit.outbox import OUTBOX_FIELD, OUTBOX_INDEX

STATE_INDEXES = [
    IndexModel([("watch.s", ASCENDING), ("watch.d", ASCENDING), ("watch.l", ASCENDING)], name="watch"),
    IndexModel([("user_id", ASCENDING)], name="user"),
    OUTBOX_INDEX,
]
ORDER_INDEXES = [
    IndexModel(
        [("wallet_id", ASCENDING), ("client_order_id", ASCENDING)], unique=True, name="uniq_client_id"
    ),
    IndexModel([("wallet_id", ASCENDING), ("_id", DESCENDING)], name="wallet_newest"),
    IndexModel([("wallet_id", ASCENDING), ("status", ASCENDING), ("_id", DESCENDING)], name="wallet_status"),
]
TRADE_INDEXES = [
    IndexModel([("wallet_id", ASCENDING), ("seq", DESCENDING)], name="wallet_newest"),
    IndexModel([("wallet_id", ASCENDING), ("symbol", ASCENDING), ("seq", DESCENDING)], name="wallet_symbol"),
]
CLOSED = [
    OrderStatus.FILLED.value,
    OrderStatus.CANCELED.value,
    OrderStatus.EXPIRED.value,
    OrderStatus.REJECTED.value,
]


# ---- mapping ----


def order_to_doc(order: OrderState) -> Document:
    return {
        "_id": order.id,
        "client_order_id": order.client_order_id,
        "wallet_id": order.wallet_id,
        "symbol": order.symbol,
        "side": order.side.value,
        "type": order.type.value,
        "time_in_force": order.time_in_force.value,
        "quantity": order.quantity,
        "price": order.price,
        "stop_price": order.stop_price,
        "status": order.status.value,
        "filled_quantity": order.filled_quantity,
        "average_price": order.average_price,
        "fee_asset": order.fee_asset,
        "fee_amount": order.fee_amount,
        "locked_asset": order.locked_asset,
        "locked_amount": order.locked_amount,
        "reason": order.reason,
        "triggered_at": order.triggered_at,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "closed_at": order.closed_at,
    }


def order_from_doc(doc: Document) -> OrderState:
    return OrderState(
        id=doc["_id"],
        client_order_id=doc["client_order_id"],
        wallet_id=doc["wallet_id"],
        symbol=doc["symbol"],
        side=Side(doc["side"]),
        type=OrderType(doc["type"]),
        time_in_force=TimeInForce(doc["time_in_force"]),
        quantity=doc["quantity"],
        price=doc.get("price"),
        stop_price=doc.get("stop_price"),
        status=OrderStatus(doc["status"]),
        filled_quantity=doc["filled_quantity"],
        average_price=doc.get("average_price"),
        fee_asset=doc["fee_asset"],
        fee_amount=doc["fee_amount"],
        locked_asset=doc["locked_asset"],
        locked_amount=doc["locked_amount"],
        reason=doc.get("reason"),
        triggered_at=doc.get("triggered_at"),
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        closed_at=doc.get("closed_at"),
    )


def _watch(account: Account) -> list[Document]:
    entries = []
    for order in account.open_orders.values():
        if (w := order.watch()) is not None:
            direction, level = w
            entries.append({"o": order.id, "s": order.symbol, "d": direction.value, "l": level})
    return entries


def _state_fields(account: Account) -> Document:
    return {
        "user_id": account.user_id,
        "status": account.status.value,
        "is_active": account.is_active,
        "risk_limits": account.risk_limits.model_dump(mode="python"),
        "registry_sequence": account.registry_sequence,
        "balances": {a: {"free": b.free, "locked": b.locked} for a, b in account.ledger.balances.items()},
        "open_orders": {oid: order_to_doc(o) for oid, o in account.open_orders.items()},
        "watch": _watch(account),
        "recent": [{"c": r.client_order_id, "o": r.order_id, "f": r.fingerprint} for r in account.recent],
        "version": account.version,
        "event_seq": account.event_seq,
        "funding": dict(account.funding) if account.funding is not None else None,
        "funded_since": account.funded_since,
        "created_at": account.created_at,
        "updated_at": account.updated_at,
    }


def ledger_from_doc(doc: Document) -> Ledger:
    """The ledger of an account document (its ``balances`` field)."""
    return Ledger({a: Balance(b["free"], b["locked"]) for a, b in (doc.get("balances") or {}).items()})


def account_from_doc(doc: Document) -> Account:
    return Account(
        wallet_id=doc["_id"],
        user_id=doc["user_id"],
        ledger=ledger_from_doc(doc),
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        status=AccountStatus(doc["status"]),
        is_active=doc["is_active"],
        risk_limits=RiskLimits.model_validate(doc.get("risk_limits") or {}),
        registry_sequence=doc["registry_sequence"],
        open_orders={oid: order_from_doc(o) for oid, o in (doc.get("open_orders") or {}).items()},
        recent=tuple(RecentOrder(r["c"], r["o"], r["f"]) for r in doc.get("recent") or []),
        version=doc["version"],
        event_seq=doc["event_seq"],
        funding=doc.get("funding"),
        funded_since=doc.get("funded_since", 0),
    )


def trade_to_doc(fill: Fill, wallet_id: str, seq: int) -> Document:
    return {
        "_id": fill.id,
        "wallet_id": wallet_id,
        "seq": seq,
        "order_id": fill.order_id,
        "symbol": fill.symbol,
        "side": fill.side.value,
        "quantity": fill.quantity,
        "price": fill.price,
        "quote_amount": fill.quote_amount,
        "fee_asset": fill.fee_asset,
        "fee_amount": fill.fee_amount,
        "liquidity": fill.liquidity.value,
        "quote": {"price": fill.quote.price, "ts": fill.quote.ts, "source": fill.quote.source},
        "executed_at": fill.executed_at,
    }


class ExchangeStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db
        self.state: AsyncCollection[Document] = db["demo_wallet_state"]
        self.orders: AsyncCollection[Document] = db["demo_orders"]
        self.trades: AsyncCollection[Document] = db["demo_trades"]
        self.prices: AsyncCollection[Document] = db["market_prices"]

    async def ensure_indexes(self) -> None:
        await self.state.create_indexes(STATE_INDEXES)
        await self.orders.create_indexes(ORDER_INDEXES)
        await self.trades.create_indexes(TRADE_INDEXES)

    # ---- accounts ----

    async def load(self, wallet_id: str, user_id: str | None = None) -> Account | None:
        query: Document = {"_id": wallet_id}
        if user_id is not None:
            query["user_id"] = user_id
        doc = await self.state.find_one(query, {OUTBOX_FIELD: 0})
        return account_from_doc(doc) if doc else None

    async def insert(self, account: Account, outbox: list[Document]) -> bool:
        """A new account with its first outbox entries (``servicekit.outbox.outbox_entry``)."""
        doc = {"_id": account.wallet_id, **_state_fields(account), OUTBOX_FIELD: outbox}
        try:
            await self.state.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def save(self, account: Account, *, expected_version: int, outbox: list[Document]) -> bool:
        """One conditional write: the new state and its events' outbox entries, only if nobody wrote
        since we read."""
        update: dict[str, Any] = {"$set": _state_fields(account)}
        if outbox:
            update["$push"] = {OUTBOX_FIELD: {"$each": outbox}}
        result = await self.state.update_one({"_id": account.wallet_id, "version": expected_version}, update)
        return result.modified_count == 1

    async def wallets_triggered_by(self, symbol: str, price: Decimal) -> list[str]:
        """Wallets with a resting order this price wakes (index range scan on ``watch``)."""
        found: list[str] = []
        for direction, bound in ((Direction.AT_OR_BELOW, "$gte"), (Direction.AT_OR_ABOVE, "$lte")):
            query = {"watch": {"$elemMatch": {"s": symbol, "d": direction.value, "l": {bound: price}}}}
            found += [d["_id"] async for d in self.state.find(query, {"_id": 1})]
        return sorted(set(found))

    # ---- projections (idempotent: a newer sequence wins, replays change nothing) ----

    async def project_order(self, order: OrderState, user_id: str, seq: int) -> None:
        doc = {**order_to_doc(order), "user_id": user_id, "seq": seq}
        # A DuplicateKeyError means it was already projected at this or a later sequence.
        with contextlib.suppress(DuplicateKeyError):
            await self.orders.update_one({"_id": order.id, "seq": {"$lt": seq}}, {"$set": doc}, upsert=True)

    async def project_trade(self, fill: Fill, wallet_id: str, seq: int) -> None:
        with contextlib.suppress(DuplicateKeyError):
            await self.trades.insert_one(trade_to_doc(fill, wallet_id, seq))

    async def project_trades(self, docs: list[Document]) -> None:
        """Many trades in one round trip; those already in history (same ``_id``) stay as they are."""
        await insert_new(self.trades, docs)

    async def find_order(self, wallet_id: str, user_id: str, ref: str) -> Document | None:
        """By order id or by client_order_id, told apart by shape (a client_order_id may never look
        like an order id): one round trip either way."""
        key = "_id" if OBJECT_ID.fullmatch(ref) else "client_order_id"
        return await self.orders.find_one({key: ref, "wallet_id": wallet_id, "user_id": user_id})

    async def find_by_client_order_id(
        self, wallet_id: str, user_id: str, client_order_id: str
    ) -> Document | None:
        """One round trip (index ``uniq_client_id``): a client_order_id never looks like an order id."""
        return await self.orders.find_one(
            {"wallet_id": wallet_id, "client_order_id": client_order_id, "user_id": user_id}
        )

    async def pending_order(self, wallet_id: str, order_id: str) -> Order | None:
        """The newest state of an order still waiting in the account's outbox (committed, not yet relayed)."""
        doc = await self.state.find_one({"_id": wallet_id}, {OUTBOX_FIELD: 1})
        found: Order | None = None
        for entry in (doc or {}).get(OUTBOX_FIELD) or []:
            if entry["subject"].startswith(event_prefix(EventType.ORDER_UPDATED)):
                event = Event.model_validate_json(entry["payload"])
                if isinstance(event.data, dict) and event.data.get("id") == order_id:
                    found = Order.model_validate(event.data)
        return found

    async def list_orders(
        self, wallet_id: str, user_id: str, *, status: str, symbol: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Document], str | None]:
        query: Document = {"wallet_id": wallet_id, "user_id": user_id}
        if status == "open":
            query["status"] = OrderStatus.OPEN.value
        elif status == "closed":
            query["status"] = {"$in": CLOSED}
        if symbol is not None:
            query["symbol"] = symbol
        if cursor is not None:
            query["_id"] = {"$lt": decode_cursor(cursor)}
        docs = await self.orders.find(query).sort("_id", DESCENDING).limit(limit + 1).to_list()
        page = docs[:limit]
        return page, (encode_cursor(page[-1]["_id"]) if len(docs) > limit else None)

    async def list_trades(
        self, wallet_id: str, *, symbol: str | None, limit: int, below: int | None
    ) -> list[Document]:
        """Newest first, at most ``limit + 1`` (whether there is more), below the sequence ``below``."""
        query: Document = {"wallet_id": wallet_id}
        if symbol is not None:
            query["symbol"] = symbol
        if below is not None:
            query["seq"] = {"$lt": below}
        return await self.trades.find(query).sort("seq", DESCENDING).limit(limit + 1).to_list()

    async def load_with_pending(
        self, wallet_id: str, user_id: str, subject_prefix: str
    ) -> tuple[Account | None, list[Event]]:
        """The account and, in the same read, its committed events not yet relayed (of one type)."""
        doc = await self.state.find_one({"_id": wallet_id, "user_id": user_id})
        if doc is None:
            return None, []
        entries = doc.get(OUTBOX_FIELD) or []
        pending = [
            Event.model_validate_json(e["payload"])
            for e in entries
            if e["subject"].startswith(subject_prefix)
        ]
        return account_from_doc(doc), pending

    # ---- prices ----

    async def save_price(self, tick: Tick) -> bool:
        """Keep the newest tick per symbol; False when a newer one is already stored (this one is late)."""
        doc = {"price": tick.price, "ts": tick.ts, "source": tick.source, "saved_at": datetime.now(UTC)}
        try:
            await self.prices.update_one(
                {"_id": tick.symbol, "ts": {"$lte": tick.ts}}, {"$set": doc}, upsert=True
            )
        except DuplicateKeyError:
            return False
        return True

    async def load_prices(self) -> list[Document]:
        return await self.prices.find({}).to_list()
