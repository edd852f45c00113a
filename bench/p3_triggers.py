"""P3 triggers: N resting limit buys over 3 symbols; the time and store commands of one tick that triggers
0, 1 and 100 of them, run in-process on demo-exchange's own ``on_tick`` (see bench.inprocess)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bson import ObjectId

from bench.context import PRICES, Context, store_label
from bench.inprocess import MonitoredExchange, monitored_exchange
from contracts.market import Tick
from contracts.orders import OrderCreate
from demo_exchange.domain import account as acc
from demo_exchange.domain.account import Account
from demo_exchange.domain.ledger import Ledger
from demo_exchange.domain.matching import Quote

SYMBOLS = tuple(PRICES)
QUANTITY = {"BTC/USDT": "0.001", "ETH/USDT": "0.01", "SOL/USDT": "1"}
STEP = Decimal("0.01")


def _level(symbol: str, j: int) -> Decimal:
    """The j-th highest resting buy of a symbol: the first tick at or below it triggers j+1 orders."""
    return Decimal(PRICES[symbol]) - STEP * j


async def seed(ex: MonitoredExchange, resting: int, per_wallet: int) -> int:
    """``resting`` limit buys below the market, consecutive levels of a symbol in different wallets."""
    wallets = max(1, resting // per_wallet)
    now = datetime.now(UTC)
    accounts = [
        Account(
            wallet_id=str(ObjectId()),
            user_id=f"p3-user-{i}",
            ledger=Ledger.of({"USDT": Decimal("1e9")}),
            created_at=now,
            updated_at=now,
            version=1,
        )
        for i in range(wallets)
    ]
    engine = ex.service.engine
    above = {s: Quote(price=_level(s, 0) + 100, ts=now, source="bench") for s in SYMBOLS}
    for g in range(resting):
        symbol, j, w = SYMBOLS[g % 3], g // 3, g % wallets
        body = OrderCreate.model_validate(
            {"symbol": symbol, "side": "buy", "type": "limit", "quantity": QUANTITY[symbol],
             "price": str(_level(symbol, j))}
        )  # fmt: skip
        change = acc.place_order(
            accounts[w], engine, ex.service.instruments[symbol], body,
            order_id=str(ObjectId()), client_order_id=uuid.uuid4().hex, quote=above[symbol], now=now,
        )  # fmt: skip
        accounts[w] = change.account
    for a in accounts:
        await ex.store.insert(a, [])
    return wallets


async def _tick(ex: MonitoredExchange, symbol: str, price: Decimal) -> dict[str, Any]:
    ex.counter.reset()
    started = time.perf_counter()
    fills = await ex.service.on_tick(Tick(symbol=symbol, price=price, ts=datetime.now(UTC), source="bench"))
    await ex.service.relayed()  # a tick has no reply: its cost includes relaying the events it caused
    elapsed = (time.perf_counter() - started) * 1000
    return {
        "fills": fills,
        "ms": round(elapsed, 2),
        "store_commands": ex.counter.total(),
        "by_command": ex.counter.snapshot(),
    }


async def run_size(ctx: Context, resting: int) -> dict[str, Any]:
    ex = await monitored_exchange(ctx.platform.infra.mongo.url, f"{ctx.platform.prefix}_p3_{resting}")
    try:
        started = time.perf_counter()
        wallets = await seed(ex, resting, ctx.sizes.p3_orders_per_wallet)
        seeded_s = time.perf_counter() - started
        symbol = "BTC/USDT"
        await _tick(ex, symbol, _level(symbol, 0) + 50)  # warm: stores the quote, triggers nothing
        ticks = {
            "0": await _tick(ex, symbol, _level(symbol, 0) + 40),
            "1": await _tick(ex, symbol, _level(symbol, 0)),
            "100": await _tick(ex, symbol, _level(symbol, 100)),
        }
    finally:
        await ex.close()
    return {"resting": resting, "wallets": wallets, "seed_s": round(seeded_s, 1), "ticks": ticks}


async def run(ctx: Context) -> dict[str, Any]:
    sizes = [await run_size(ctx, n) for n in ctx.sizes.p3_resting]
    return {
        "what": "one tick on BTC/USDT triggering 0, 1, 100 resting limit buys; in-process on_tick",
        "store": store_label(ctx.platform.infra.mongo.source),
        "goal": "cost grows with the triggered count, not with the resting count",
        "sizes": sizes,
    }
