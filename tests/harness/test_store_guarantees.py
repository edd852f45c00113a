"""The store we run on really enforces what the code relies on (whatever MONGODB_URL resolves to)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from bson.decimal128 import Decimal128
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from servicekit.mongo import Document
from servicekit.outbox import OUTBOX_FIELD


async def test_unique_index_raises_duplicate_key_error(mongo_db: AsyncDatabase[Document]) -> None:
    await mongo_db.things.create_index([("slug", ASCENDING)], unique=True)
    await mongo_db.things.insert_one({"slug": "a"})
    with pytest.raises(DuplicateKeyError):
        await mongo_db.things.insert_one({"slug": "a"})


async def test_partial_unique_index_applies_only_to_live_documents(mongo_db: AsyncDatabase[Document]) -> None:
    await mongo_db.w.create_index(
        [("user_id", ASCENDING), ("name", ASCENDING)],
        unique=True,
        partialFilterExpression={"deleted_at": {"$type": "null"}},
    )
    await mongo_db.w.insert_one({"user_id": "u", "name": "n", "deleted_at": None})
    with pytest.raises(DuplicateKeyError):
        await mongo_db.w.insert_one({"user_id": "u", "name": "n", "deleted_at": None})
    await mongo_db.w.update_one({"name": "n"}, {"$set": {"deleted_at": datetime.now(UTC)}})
    await mongo_db.w.insert_one({"user_id": "u", "name": "n", "deleted_at": None})
    assert await mongo_db.w.count_documents({"name": "n"}) == 2


async def test_guarded_inc_is_atomic_under_50_concurrent_updates(mongo_db: AsyncDatabase[Document]) -> None:
    """50 concurrent debits of 3 against a balance of 100: exactly 33 succeed, nothing goes negative."""
    await mongo_db.balances.insert_one({"_id": "w", "free": Decimal("100")})

    async def debit() -> Document | None:
        return await mongo_db.balances.find_one_and_update(
            {"_id": "w", "free": {"$gte": Decimal("3")}},
            {"$inc": {"free": Decimal("-3")}},
            return_document=ReturnDocument.AFTER,
        )

    results = await asyncio.gather(*(debit() for _ in range(50)))
    succeeded = [r for r in results if r is not None]
    final = await mongo_db.balances.find_one({"_id": "w"})
    assert len(succeeded) == 33
    assert final is not None
    assert final["free"] == Decimal("1")
    assert sorted(r["free"] for r in succeeded) == [Decimal(100 - 3 * k) for k in range(33, 0, -1)]


async def test_version_guard_lets_exactly_one_of_many_writers_win(mongo_db: AsyncDatabase[Document]) -> None:
    await mongo_db.agg.insert_one({"_id": "a", "version": 1})

    async def bump() -> int:
        result = await mongo_db.agg.update_one({"_id": "a", "version": 1}, {"$set": {"version": 2}})
        return result.modified_count

    assert sum(await asyncio.gather(*(bump() for _ in range(50)))) == 1


# Every amount the contract accepts (up to 16 integer and 18 fractional digits, signed).
contract_amounts = st.from_regex(r"\A-?[0-9]{1,16}(\.[0-9]{1,18})?\Z").map(Decimal)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=contract_amounts)
async def test_decimal128_round_trips_exactly(mongo_db: AsyncDatabase[Document], value: Decimal) -> None:
    doc_id = (await mongo_db.dec.insert_one({"v": value})).inserted_id
    stored = await mongo_db.dec.find_one({"_id": doc_id})
    assert stored is not None
    assert stored["v"] == value
    assert str(stored["v"]) == str(Decimal128(value).to_decimal())


async def test_decimal_is_stored_as_decimal128_not_double(mongo_db: AsyncDatabase[Document]) -> None:
    await mongo_db.dec.insert_one({"_id": "x", "v": Decimal("0.1")})
    assert await mongo_db.dec.count_documents({"v": {"$type": "decimal"}}) == 1


async def test_pull_removes_only_the_relayed_outbox_entries(mongo_db: AsyncDatabase[Document]) -> None:
    entries = [{"event_id": f"e{i}", "created_at": datetime.now(UTC)} for i in range(3)]
    await mongo_db.state.insert_one({"_id": "s", OUTBOX_FIELD: entries})
    await mongo_db.state.update_one(
        {"_id": "s"}, {"$pull": {OUTBOX_FIELD: {"event_id": {"$in": ["e0", "e2"]}}}}
    )
    doc = await mongo_db.state.find_one({"_id": "s"})
    assert doc is not None
    assert [e["event_id"] for e in doc[OUTBOX_FIELD]] == ["e1"]
