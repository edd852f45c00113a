"""The crash storm's moving parts: a client that retries every order with the same ``client_order_id``
until it is acknowledged, a tick feed that survives server restarts, and the chaos that kills processes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import nats

from contracts.subjects import tick_subject
from devstack.nats import EmbeddedNats
from tests.support.stack import Stack
from tests.support.waiting import eventually

CENTER = 66000
SWING = 400  # ticks sweep CENTER ± SWING, so limits at ± 200 fill as the wave passes them
RETRYABLE = {429, 502, 503, 504}


@dataclass
class Ack:
    wallet_id: str
    client_order_id: str
    order_id: str
    status: str


@dataclass
class Counts:
    orders: int = 0
    attempts: int = 0
    acknowledged: int = 0
    transport_errors: int = 0
    retry_statuses: Counter[int] = field(default_factory=Counter)
    refused: list[tuple[str, int, str]] = field(default_factory=list)
    gave_up: list[str] = field(default_factory=list)

    @property
    def retried(self) -> int:
        return self.attempts - self.orders


def order_body(i: int) -> dict[str, Any]:
    """Market buys and sells, and limits either side of the price that the tick wave will reach."""
    cid = f"storm-{i:04d}"
    kind = i % 5
    if kind < 3:
        return {
            "symbol": "BTC/USDT",
            "side": "buy" if kind % 2 == 0 else "sell",
            "type": "market",
            "quantity": "0.001",
            "client_order_id": cid,
        }
    side, offset = ("buy", -SWING // 2) if kind == 3 else ("sell", SWING // 2)
    return {
        "symbol": "BTC/USDT",
        "side": side,
        "type": "limit",
        "quantity": "0.001",
        "price": f"{CENTER + offset + (i % 7)}.00",
        "client_order_id": cid,
    }


def retryable(r: httpx.Response) -> bool:
    if r.status_code in RETRYABLE:
        return True
    return r.status_code == 409 and r.json().get("code") == "concurrent_modification"


async def submit(
    http: httpx.AsyncClient, wallet_id: str, headers: dict[str, str], body: dict[str, Any], counts: Counts
) -> Ack | None:
    """POST until a 2xx (the same body, so the same client_order_id), a refusal, or 2 minutes."""
    counts.orders += 1
    deadline = time.monotonic() + 120
    attempt = 0
    while time.monotonic() < deadline:
        attempt += 1
        counts.attempts += 1
        try:
            r = await http.post(f"/api/v1/user-wallets/{wallet_id}/orders", json=body, headers=headers)
        except httpx.TransportError:
            counts.transport_errors += 1
        else:
            if r.is_success:
                counts.acknowledged += 1
                order = r.json()
                return Ack(wallet_id, body["client_order_id"], order["id"], order["status"])
            if not retryable(r):
                counts.refused.append((body["client_order_id"], r.status_code, r.text[:300]))
                return None
            counts.retry_statuses[r.status_code] += 1
        await asyncio.sleep(min(0.05 * 2 ** min(attempt, 5), 1.0))  # a client's backoff, not a test wait
    counts.gave_up.append(body["client_order_id"])
    return None


async def run_client(
    http: httpx.AsyncClient,
    wallets: list[tuple[str, dict[str, str]]],
    n: int,
    counts: Counts,
    concurrency: int,
) -> list[Ack]:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)
    acks: list[Ack] = []

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            wallet_id, headers = wallets[i % len(wallets)]
            ack = await submit(http, wallet_id, headers, order_body(i), counts)
            if ack is not None:
                acks.append(ack)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return acks


async def feed_ticks(nats_url: str, stop: asyncio.Event) -> int:
    """Publish BTC/USDT ticks (a sine wave) every 25 ms; reconnects forever while the server restarts."""

    async def quietly(_: Exception) -> None:
        """Connection refused while the server restarts is the point of the storm, not news."""

    nc = await nats.connect(nats_url, max_reconnect_attempts=-1, reconnect_time_wait=0.1, error_cb=quietly)
    sent = 0
    start = time.monotonic()
    try:
        while not stop.is_set():
            phase = 2 * math.pi * (time.monotonic() - start) / 3.0
            price = f"{CENTER + SWING * math.sin(phase):.2f}"
            tick = {
                "symbol": "BTC/USDT",
                "price": price,
                "ts": datetime.now(UTC).isoformat(),
                "source": "storm",
            }
            if nc.is_connected:
                await nc.publish(tick_subject("BTC/USDT"), json.dumps(tick).encode())
                sent += 1
            with contextlib.suppress(TimeoutError):  # the feed's pace: one tick every 25 ms until stopped
                await asyncio.wait_for(stop.wait(), timeout=0.025)
    finally:
        await nc.close()
    return sent


@dataclass
class Chaos:
    """Kills demo-exchange (SIGKILL, then a new process at once, as a supervisor would) and nats-server
    (SIGKILL, then a new server on the same port and store) at points spread over the run."""

    stack: Stack
    nats: EmbeddedNats
    nats_port: int
    nats_log: Path
    exchange_kills: int = 0
    nats_kills: int = 0
    last_restart: float = 0.0
    log: list[str] = field(default_factory=list)

    async def kill_exchange(self) -> None:
        self.stack.processes["demo-exchange"].kill()
        self.exchange_kills += 1
        self.stack.add_process("demo-exchange", "demo_exchange", {})
        self.last_restart = time.monotonic()
        self.log.append(f"demo-exchange SIGKILL #{self.exchange_kills}")

    async def kill_nats(self) -> None:
        self.nats.kill()
        self.nats_kills += 1
        store = self.nats.store_dir
        self.nats = await asyncio.to_thread(EmbeddedNats, store, port=self.nats_port, log_path=self.nats_log)
        self.last_restart = time.monotonic()
        self.log.append(f"nats-server SIGKILL #{self.nats_kills}")

    async def run(self, plan: list[str], counts: Counts, total: int) -> None:
        """Action k happens once k/(len(plan)+1) of the orders are acknowledged: the platform must have
        recovered from the previous one to get there."""
        for k, action in enumerate(plan, start=1):
            threshold = total * k // (len(plan) + 1)

            async def reached(t: int = threshold) -> bool:
                return counts.acknowledged >= t

            await eventually(
                reached,
                timeout=180,
                interval=0.02,
                what=f"{threshold} orders acknowledged before {action} kill #{k}",
            )
            await (self.kill_exchange() if action == "exchange" else self.kill_nats())
