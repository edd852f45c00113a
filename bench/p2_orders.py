"""P2 order path: market orders end to end over HTTP, against the store's raw guarded ``find_one_and_update``
rate on the same server in the same run; the store round trips of one order counted in-process."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from statistics import median
from typing import Any

from bson import ObjectId
from bson.decimal128 import Decimal128
from pymongo import AsyncMongoClient, ReturnDocument

from bench.context import PRICES, Context, store_label
from bench.inprocess import monitored_exchange
from bench.load import LoadResult, Target, run_load
from contracts.exchange import PlaceOrder
from contracts.market import Tick
from contracts.orders import OrderCreate
from demo_exchange.domain.account import Account
from demo_exchange.domain.ledger import Ledger
from servicekit.mongo import Document

ORDER = {"symbol": "BTC/USDT", "side": "buy", "type": "market", "quantity": "0.001"}
COST = Decimal("50.06")  # what one such order takes from the free balance, roughly


async def raw_guarded_rate(
    mongo_url: str, db_name: str, *, concurrency: int, duration: float
) -> dict[str, Any]:
    """``concurrency`` tasks, each a loop of one guarded decrement on its own document (the shape of the
    order path's single conditional write, without anything around it)."""
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongo_url, tz_aware=True, maxPoolSize=concurrency)
    coll = client[db_name]["accounts"]
    try:
        await coll.insert_many(
            [{"_id": i, "free": Decimal128("1000000000"), "version": 0} for i in range(concurrency)]
        )
        cost = Decimal128(COST)
        done = 0
        misses = 0

        async def worker(i: int, stop_at: float) -> None:
            nonlocal done, misses
            while time.perf_counter() < stop_at:
                doc = await coll.find_one_and_update(
                    {"_id": i, "free": {"$gte": cost}},
                    {"$inc": {"free": Decimal128(-COST), "version": 1}},
                    return_document=ReturnDocument.AFTER,
                )
                done += 1
                misses += doc is None

        await worker(0, time.perf_counter() + 0.5)  # warm the connection
        done = misses = 0
        began = time.perf_counter()
        await asyncio.gather(*(worker(i, began + duration) for i in range(concurrency)))
        elapsed = time.perf_counter() - began
    finally:
        await client.drop_database(db_name)
        await client.close()
    return {
        "ops": done,
        "misses": misses,
        "seconds": round(elapsed, 2),
        "rps": round(done / elapsed, 1),
        "concurrency": concurrency,
    }


async def round_trips_per_order(mongo_url: str, db_name: str, orders: int = 30) -> dict[str, Any]:
    """demo-exchange's ``place`` in this process: the store commands before it returns (= the reply)."""
    ex = await monitored_exchange(mongo_url, db_name)
    try:
        now = datetime.now(UTC)
        ex.service.prices.update(
            Tick(symbol="BTC/USDT", price=Decimal(PRICES["BTC/USDT"]), ts=now, source="bench")
        )
        wallet = str(ObjectId())
        account = Account(
            wallet_id=wallet, user_id="p2-rt-user", ledger=Ledger.of({"USDT": Decimal("1e9")}),
            created_at=now, updated_at=now, version=1,
        )  # fmt: skip
        await ex.store.insert(account, [])
        before: list[dict[str, int]] = []
        after: list[dict[str, int]] = []
        times: list[float] = []
        for i in range(orders):
            body = OrderCreate.model_validate({**ORDER, "client_order_id": f"rt-{i}"} if i % 2 else ORDER)
            ex.counter.reset()
            started = time.perf_counter()
            placed = await ex.service.place(PlaceOrder(wallet_id=wallet, user_id="p2-rt-user", body=body))
            times.append((time.perf_counter() - started) * 1000)
            assert placed.order.status == "filled", placed.order
            before.append(ex.counter.snapshot())
            ex.counter.reset()
            await ex.service.relayed()  # what the service still does after the reply (the event relay)
            after.append(ex.counter.snapshot())
    finally:
        await ex.close()
    return {
        "orders": orders,
        "before_reply": before[-2],
        "total_before_reply": sum(before[-2].values()),
        "before_reply_with_client_order_id": before[-1],
        "total_before_reply_with_client_order_id": sum(before[-1].values()),
        "after_reply": after[-2],
        "total_after_reply": sum(after[-2].values()),
        "goal_before_reply": 2,
        "service_call_p50_ms": round(median(times), 3),
        "note": "counted in-process on demo-exchange's service code (a place() call = the reply)",
    }


async def opcounters(mongo_url: str) -> dict[str, int]:
    """The server's own operation counters (``serverStatus.opcounters``: MongoDB and mongoeco have them)."""
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongo_url)
    try:
        status = await client.admin.command("serverStatus")
        return {k: int(v) for k, v in status.get("opcounters", {}).items()}
    except Exception:
        return {}
    finally:
        await client.close()


async def quiesce(mongo_url: str, *, below: float = 20, window: float = 1.0, timeout: float = 90) -> float:
    """Wait until the store is quiet (fewer than ``below`` operations per second across the platform), so
    the work a load run leaves behind (consumers, debounced syncs, relays) does not land in the next
    measurement. Returns the seconds waited."""
    began = time.perf_counter()
    previous = sum((await opcounters(mongo_url)).values())
    while time.perf_counter() - began < timeout:
        await asyncio.sleep(window)
        current = sum((await opcounters(mongo_url)).values())
        if current - previous < below * window:
            break
        previous = current
    return round(time.perf_counter() - began, 1)


def order_target(ctx: Context, wallets: list[tuple[str, str]]) -> Target:
    body = json.dumps(ORDER)
    reqs: list[tuple[str, str, dict[str, str], str | None]] = []
    for user, wid in wallets:
        headers = {**ctx.platform.headers(user), "Content-Type": "application/json"}
        reqs.append(("POST", f"/api/v1/user-wallets/{wid}/orders", headers, body))
    return Target(ctx.platform.base_url, reqs)


async def run(ctx: Context, sample_rss: Callable[[], dict[str, float | None]]) -> dict[str, Any]:
    conns = ctx.sizes.p2_connections
    d = ctx.sizes.duration
    await ctx.set_prices()
    wallets = await ctx.open_wallets(conns, label="p2")
    mongo = ctx.platform.infra.mongo.url
    drained: dict[str, float] = {"before_raw": await quiesce(mongo)}
    raw = await raw_guarded_rate(mongo, f"{ctx.platform.prefix}_raw", concurrency=conns, duration=d)
    target = order_target(ctx, wallets)
    await asyncio.to_thread(run_load, target, connections=4, duration=1)  # warm-up
    drained["before_c32"] = await quiesce(mongo)
    peaks: dict[str, float] = {}
    stop = asyncio.Event()

    async def sampler() -> None:
        while not stop.is_set():
            for name, mib in sample_rss().items():
                if mib is not None:
                    peaks[name] = max(peaks.get(name, 0.0), mib)
            await asyncio.sleep(0.25)

    sampling = asyncio.create_task(sampler())
    ops_before = await opcounters(mongo)
    try:
        c32: LoadResult = await asyncio.to_thread(run_load, target, connections=conns, duration=d)
        # What the orders set off after their replies (relays, consumers, debounced syncs) counts too.
        drained["after_c32"] = await quiesce(mongo)
    finally:
        stop.set()
        await sampling
    ops_after = await opcounters(mongo)
    ops = {k: ops_after[k] - ops_before.get(k, 0) for k in ops_after}
    c1: LoadResult = await asyncio.to_thread(run_load, target, connections=1, duration=d)
    drained["after_c1"] = await quiesce(mongo)
    trips = await round_trips_per_order(mongo, f"{ctx.platform.prefix}_rt_{uuid.uuid4().hex[:6]}")
    return {
        "what": f"POST market orders (0.001 BTC/USDT) over {conns} wallets vs raw guarded fou",
        "store": store_label(ctx.platform.infra.mongo.source),
        "ratio": round(c32.rps / raw["rps"], 3),
        "goal_ratio": 0.7,
        "orders_rps": c32.rps,
        "raw_fou_rps": raw["rps"],
        "p50_ms": c32.p50_ms,
        "p99_ms": c32.p99_ms,
        "p50_ms_c1": c1.p50_ms,
        "p99_ms_c1": c1.p99_ms,
        "round_trips": trips,
        "server_ops_per_order": {k: round(v / max(1, c32.requests), 2) for k, v in ops.items() if v},
        "server_ops_note": "serverStatus.opcounters over the 32-connection run until the store is quiet "
        "again, / orders: every service's store work per order (consumers, syncs, relay)",
        "drained_s": drained,
        "raw": raw,
        "runs": {f"orders_c{conns}": c32.as_dict(), "orders_c1": c1.as_dict()},
        "rss_peak_mib": {k: round(v, 1) for k, v in peaks.items()},
    }
