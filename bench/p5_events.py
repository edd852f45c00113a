"""P5 event latency: the HTTP reply of a market order → ``evt.trade.executed`` received by an external
JetStream subscriber (an ordered push consumer on ``MONIQO_EVENTS``, as any client would use)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy

from bench.context import Context
from bench.load import percentile
from bench.p2_orders import ORDER
from contracts.subjects import EVENTS_STREAM


async def run(ctx: Context) -> dict[str, Any]:
    await ctx.set_prices()
    ((user, wid),) = await ctx.open_wallets(1, label="p5")
    received: dict[str, float] = {}
    arrived: dict[str, asyncio.Event] = {}

    async def on_event(msg: Msg) -> None:
        at = time.perf_counter()
        order_id = json.loads(msg.data)["data"]["order_id"]
        received[order_id] = at
        arrived.setdefault(order_id, asyncio.Event()).set()

    js = ctx.nc.jetstream()
    sub = await js.subscribe(
        f"evt.trade.executed.{wid}",
        stream=EVENTS_STREAM,
        cb=on_event,
        ordered_consumer=True,
        deliver_policy=DeliverPolicy.NEW,
    )
    latencies: list[float] = []
    missing = 0
    try:
        headers = ctx.platform.headers(user)
        async with ctx.http() as http:
            for _ in range(ctx.sizes.p5_orders):
                r = await http.post(f"/api/v1/user-wallets/{wid}/orders", json=ORDER, headers=headers)
                replied = time.perf_counter()
                r.raise_for_status()
                order_id = r.json()["id"]
                event = arrived.setdefault(order_id, asyncio.Event())
                try:
                    await asyncio.wait_for(event.wait(), timeout=5)
                except TimeoutError:
                    missing += 1
                    continue
                latencies.append((received[order_id] - replied) * 1000)
    finally:
        await sub.unsubscribe()
    early = sum(1 for x in latencies if x < 0)
    return {
        "what": "HTTP reply of a market order → evt.trade.executed at an external JetStream subscriber",
        "store": "outbox in the store, relayed before the reply (mongoeco when embedded, not MongoDB)",
        "orders": ctx.sizes.p5_orders,
        "p50_ms": round(percentile(latencies, 50), 3),
        "p99_ms": round(percentile(latencies, 99), 3),
        "max_ms": round(max(latencies, default=float("nan")), 3),
        "goal_p50_ms": 10,
        "events_before_reply": early,
        "missing": missing,
        "note": "negative = the event arrived before the HTTP reply (the relay publishes before replying)",
    }
