"""P4 sync sweep: N demo wallets, one balance-sync instance → the sweep's duration (sweep start → last
scheduled sync committed); then three instances on a new window → duplicates (two logs for one job key)."""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient

from bench.context import Context, store_label
from bench.p2_orders import opcounters, quiesce
from servicekit.mongo import Document, database


async def _window_run(
    ctx: Context, logs: Any, meta: Any, interval: int, instances: int, expected: int, timeout: float
) -> dict[str, Any]:
    window = math.floor(datetime.now(UTC).timestamp() / interval)
    suffix = f":{window}"
    since = datetime.now(UTC) - timedelta(seconds=1)
    names = [f"balance-sync-{interval}-{i}" for i in range(instances)]
    spawned = time.perf_counter()
    for name in names:
        ctx.platform.spawn(name, "balance_sync", {"SYNC_INTERVAL": str(interval)})
    keys: list[str] = []
    last: datetime | None = None
    failed = 0
    deadline = time.perf_counter() + timeout
    try:
        while time.perf_counter() < deadline:
            await asyncio.sleep(0.5)
            docs = await logs.find(
                {"trigger": "scheduled", "synced_at": {"$gte": since}},
                {"key": 1, "synced_at": 1, "status": 1},
            ).to_list()
            mine = [d for d in docs if str(d.get("key", "")).endswith(suffix)]
            keys = [d["key"] for d in mine]
            failed = sum(1 for d in mine if d.get("status") != "success")
            if len(set(keys)) >= expected:
                last = max(d["synced_at"] for d in mine)
                break
        finished = time.perf_counter()
        await asyncio.sleep(2)  # late duplicates, if any, would land now
        docs = await logs.find({"trigger": "scheduled", "synced_at": {"$gte": since}}, {"key": 1}).to_list()
        counts = Counter(d["key"] for d in docs if str(d.get("key", "")).endswith(suffix))
        sweep = await meta.find_one({"_id": "sweep"})
    finally:
        for name in names:
            ctx.platform.stop(name)
    started_at = sweep["at"] if sweep and sweep.get("window") == window else None
    return {
        "instances": instances,
        "window": window,
        # Not completed: the deadline passed first; what was synced by then is still checked for duplicates.
        "completed": last is not None,
        "timeout_s": timeout,
        "wallets_synced": len(counts),
        "failed": failed,
        "duplicates": sum(c - 1 for c in counts.values()),
        "sweep_s": round((last - started_at).total_seconds(), 2) if started_at and last else None,
        "spawn_to_done_s": round(finished - spawned, 2),
    }


def _per_wallet(before: dict[str, int], after: dict[str, int], wallets: int) -> dict[str, float]:
    """``serverStatus.opcounters`` over a sweep (until the store is quiet again) per synced wallet: the
    store work of every service (and of this harness's polling, a few queries per second)."""
    if not before or not after or not wallets:
        return {}
    per = {k: round((after.get(k, 0) - v) / wallets, 2) for k, v in before.items()}
    per["total"] = round(sum(v for k, v in per.items() if k != "total"), 2)
    return per


async def run(ctx: Context) -> dict[str, Any]:
    n = ctx.sizes.p4_wallets
    started = time.perf_counter()
    await ctx.open_wallets(n, label="p4")
    created_s = time.perf_counter() - started
    expected = len(ctx.wallets)  # every active wallet of this run is in the sweep
    ctx.platform.stop("balance-sync")  # the platform's own instance would take a share of the jobs
    client: AsyncMongoClient[Document] = AsyncMongoClient(ctx.platform.infra.mongo.url, tz_aware=True)
    try:
        db = database(client, ctx.platform.db("sync"))
        logs, meta = db["wallet_sync_log"], db["sync_meta"]
        # Each sweep starts once the store is quiet: the work creating the wallets leaves behind (relays,
        # the exchange's and the registry's consumers) would otherwise land in the first measurement.
        mongo = ctx.platform.infra.mongo.url
        drained = {"before_one": await quiesce(mongo)}
        # Window lengths no other run of this prefix used: each run gets a window of its own.
        before = await opcounters(mongo)
        one = await _window_run(ctx, logs, meta, 3600, 1, expected, timeout=300)
        drained["after_one"] = await quiesce(mongo)  # the registry's caches and the history catch up
        one["store_ops_per_wallet"] = _per_wallet(before, await opcounters(mongo), one["wallets_synced"])
        before = await opcounters(mongo)
        three = await _window_run(ctx, logs, meta, 1800, 3, expected, timeout=300)
        drained["after_three"] = await quiesce(mongo)
        three["store_ops_per_wallet"] = _per_wallet(before, await opcounters(mongo), three["wallets_synced"])
    finally:
        await client.close()
    return {
        "what": f"scheduled sweep over {expected} active demo wallets ({n} created for P4)",
        "store": store_label(ctx.platform.infra.mongo.source),
        "wallets": expected,
        "create_wallets_s": round(created_s, 1),
        "one_instance": one,
        "three_instances": three,
        "drained_s": drained,
        "goal_sweep_s": 5,
        "goal_duplicates": 0,
    }
