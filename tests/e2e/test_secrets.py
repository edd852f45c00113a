"""After a full scenario, a credential's plaintext appears nowhere (responses, logs, events, any Mongo
document) and its ciphertext only in the registry's ``user_wallets``."""

from __future__ import annotations

import bson
import httpx
import pytest
from bson import ObjectId
from nats.aio.client import Client
from nats.js.api import ConsumerConfig, DeliverPolicy
from pymongo import AsyncMongoClient

from contracts.subjects import EVENTS_STREAM
from servicekit.mongo import CODEC_OPTIONS, Document, database
from tests.support.factories import binance_credentials, binance_wallet_body, user_id
from tests.support.stack import Stack
from tests.support.trading import Trader, set_price

pytestmark = pytest.mark.slow


async def all_events(nc: Client) -> list[bytes]:
    sub = await nc.jetstream().pull_subscribe(
        "evt.>", stream=EVENTS_STREAM, config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
    )
    out: list[bytes] = []
    pending = (await sub.consumer_info()).num_pending
    while pending:
        for msg in await sub.fetch(min(pending, 500), timeout=10):
            out.append(msg.data)
            await msg.ack()
        pending = (await sub.consumer_info()).num_pending
    await sub.unsubscribe()
    return out


async def test_credentials_leak_nowhere_after_a_full_scenario(
    http: httpx.AsyncClient, stack: Stack, nc: Client, mongo_client: AsyncMongoClient[Document]
) -> None:
    user = user_id("secretive")
    h = stack.headers(user)
    first, second = binance_credentials(), binance_credentials()
    bodies: list[str] = []

    r = await http.post("/api/v1/user-wallets", json=binance_wallet_body(credentials=first), headers=h)
    bodies.append(r.text)
    wallet_id = r.json()["id"]
    base = f"/api/v1/user-wallets/{wallet_id}"
    calls: list[tuple[str, str, dict[str, object] | None]] = [
        ("GET", base, None),
        ("PUT", base, {"credentials": second}),
        ("PUT", base, {"credentials": {"api_key": first["api_key"]}}),  # refused: must not echo
        ("POST", f"{base}/test-connection", None),
        ("POST", f"{base}/sync-balance", None),
        ("GET", f"{base}/sync-logs", None),
        ("GET", f"{base}/balances", None),
        ("GET", "/api/v1/user-wallets", None),
    ]
    for method, path, payload in calls:
        bodies.append((await http.request(method, path, json=payload, headers=h)).text)
    trader = await Trader.open(http, stack, user)  # a demo wallet that trades too
    await set_price(http, stack, nc, "BTC/USDT", "65000.00")
    bodies.append((await trader.order(symbol="BTC/USDT", side="buy", type="market", quantity="0.001")).text)

    plaintexts = [*first.values(), *second.values()]
    registry = database(mongo_client, stack.registry_db)
    raw = await registry["user_wallets"].find_one({"_id": ObjectId(wallet_id)})
    assert raw is not None
    ciphertexts = list(raw["credentials"].values())
    needles = [*plaintexts, *ciphertexts]

    for text in bodies:
        assert not [n for n in needles if n in text], text[:300]
    logs = stack.logs()
    assert logs
    assert not [n for n in needles if n in logs]
    events = await all_events(nc)
    assert events
    assert not [n for n in needles for e in events if n.encode() in e]

    documents = 0
    for db_name in (stack.registry_db, stack.exchange_db, stack.sync_db):
        db = database(mongo_client, db_name)
        for collection in await db.list_collection_names():
            async for doc in db[collection].find({}):
                documents += 1
                encoded = bson.encode(doc, codec_options=CODEC_OPTIONS)
                assert not [p for p in plaintexts if p.encode() in encoded], f"{db_name}.{collection}"
                if collection != "user_wallets":
                    assert not [c for c in ciphertexts if c.encode() in encoded], f"{db_name}.{collection}"
    assert documents > 10
