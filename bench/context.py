"""What the scenarios share: the running platform, sizes, a NATS client, HTTP helpers and the results."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import nats
from nats.aio.client import Client

from bench.stack import Platform
from contracts.subjects import tick_subject

# The mid prices the benchmark trades at (any price works; these keep the numbers readable).
PRICES = {"BTC/USDT": "50000.00", "ETH/USDT": "3000.00", "SOL/USDT": "150.00"}
RICH = {"USDT": "1000000000"}


@dataclass(frozen=True)
class Sizes:
    duration: float  # seconds per load run
    p3_resting: tuple[int, ...]  # resting orders, one P3 run per size
    p3_orders_per_wallet: int
    p4_wallets: int
    p5_orders: int
    p2_connections: int = 32

    @staticmethod
    def of(quick: bool) -> Sizes:
        if quick:
            return Sizes(duration=2, p3_resting=(300,), p3_orders_per_wallet=10, p4_wallets=30, p5_orders=20)
        return Sizes(
            duration=10, p3_resting=(1_000, 10_000), p3_orders_per_wallet=10, p4_wallets=1_000, p5_orders=200
        )


@dataclass
class Context:
    platform: Platform
    sizes: Sizes
    nc: Client
    results: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    wallets: list[tuple[str, str]] = field(default_factory=list)  # (user, wallet id) created in this run

    def http(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.platform.base_url, timeout=30, **kwargs)

    async def tick(self, symbol: str, price: str) -> None:
        tick = {"symbol": symbol, "price": price, "ts": datetime.now(UTC).isoformat(), "source": "bench"}
        await self.nc.publish(tick_subject(symbol), json.dumps(tick).encode())
        await self.nc.flush()

    async def set_prices(self) -> None:
        """Publish a tick per symbol and wait until the exchange quotes it."""
        async with self.http() as http:
            headers = self.platform.headers("bench-prices")
            for symbol, price in PRICES.items():
                await self.tick(symbol, price)
                pair = symbol.replace("/", "-")
                for _ in range(200):
                    r = await http.get(f"/api/v1/market/tickers/{pair}", headers=headers)
                    if r.status_code == 200 and r.json()["price"] == price:
                        break
                    await asyncio.sleep(0.05)
                else:
                    raise TimeoutError(f"no price for {symbol}")

    async def open_wallets(self, count: int, *, label: str, concurrency: int = 8) -> list[tuple[str, str]]:
        """``count`` demo wallets, one user each, rich in USDT; waits until demo-exchange has each account."""
        created: list[tuple[str, str]] = []
        sem = asyncio.Semaphore(concurrency)
        async with self.http() as http:

            async def one(i: int) -> None:
                user = f"{label}-{i}-{os.urandom(3).hex()}"
                body = {
                    "wallet_provider_id": "demo-v1",
                    "custom_name": f"{label} {i}",
                    "initial_balances": RICH,
                }
                async with sem:
                    r = await http.post(
                        "/api/v1/user-wallets", json=body, headers=self.platform.headers(user)
                    )
                    r.raise_for_status()
                    wid = r.json()["id"]
                    headers = self.platform.headers(user)
                    for _ in range(400):
                        b = await http.get(f"/api/v1/user-wallets/{wid}/balances", headers=headers)
                        if b.status_code == 200:
                            break
                        await asyncio.sleep(0.05)
                    else:
                        raise TimeoutError(f"demo account {wid} not opened")
                created.append((user, wid))

            await asyncio.gather(*(one(i) for i in range(count)))
        self.wallets += created
        return created


def store_label(source: str) -> str:
    return f"{source} ({'mongoeco, not MongoDB' if source == 'embedded' else 'as given'})"


async def connect_nats(url: str) -> Client:
    return await nats.connect(url, name="bench")
