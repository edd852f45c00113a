"""Helpers for trading over HTTP: a wallet, ticks on NATS, waiting for prices and order states."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from nats.aio.client import Client

from contracts.subjects import tick_subject
from tests.support.factories import demo_wallet_body
from tests.support.stack import Stack
from tests.support.waiting import eventually


async def publish_tick(nc: Client, symbol: str, price: str, source: str = "test") -> None:
    tick = {"symbol": symbol, "price": price, "ts": datetime.now(UTC).isoformat(), "source": source}
    await nc.publish(tick_subject(symbol), json.dumps(tick).encode())
    await nc.flush()


class Trader:
    """One user with one demo wallet, talking HTTP to the stack."""

    def __init__(self, http: httpx.AsyncClient, stack: Stack, user: str, wallet: dict[str, Any]) -> None:
        self.http = http
        self.stack = stack
        self.user = user
        self.wallet = wallet
        self.headers = stack.headers(user)
        self.base = f"/api/v1/user-wallets/{wallet['id']}"

    @classmethod
    async def open(
        cls,
        http: httpx.AsyncClient,
        stack: Stack,
        user: str,
        balances: dict[str, str] | None = None,
        **extra: Any,
    ) -> Trader:
        body = demo_wallet_body(
            f"paper-{user}", **({"initial_balances": balances} if balances else {}), **extra
        )
        r = await http.post("/api/v1/user-wallets", json=body, headers=stack.headers(user))
        assert r.status_code == 201, r.text
        return cls(http, stack, user, r.json())

    async def order(self, **body: Any) -> httpx.Response:
        return await self.http.post(f"{self.base}/orders", json=body, headers=self.headers)

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.http.get(f"{self.base}{path}", params=params, headers=self.headers)

    async def balances(self) -> dict[str, dict[str, Decimal]]:
        r = await self.get("/balances")
        assert r.status_code == 200, r.text
        return {a: {k: Decimal(v) for k, v in b.items()} for a, b in r.json()["balances"].items()}

    async def wait_order(self, order_id: str, status: str) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            r = await self.get(f"/orders/{order_id}")
            body: dict[str, Any] = r.json()
            return body if r.status_code == 200 and body["status"] == status else None

        return await eventually(probe, timeout=10, what=f"order {order_id} {status}")


async def set_price(http: httpx.AsyncClient, stack: Stack, nc: Client, symbol: str, price: str) -> None:
    """Publish a tick and wait until the exchange quotes it."""
    await publish_tick(nc, symbol, price)
    pair = symbol.replace("/", "-")
    headers = stack.headers("price-watcher")

    async def probe() -> bool:
        r = await http.get(f"/api/v1/market/tickers/{pair}", headers=headers)
        return r.status_code == 200 and Decimal(r.json()["price"]) == Decimal(price)

    await eventually(probe, timeout=10, what=f"{symbol} quoted at {price}")
