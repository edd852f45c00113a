"""Crash storm (issue #5): 1,000 orders, market and limit, with ticks flowing, from a client that retries on
timeouts and 503s with the same ``client_order_id``, while demo-exchange is SIGKILLed and restarted 10 times
and nats-server 3 times. Afterwards nothing is lost or doubled and the money reconciles.

``make test-reliability`` runs the full storm (``pytest -m reliability``; MONIQO_STORM_ORDERS scales it);
``make test`` runs the same storm with 200 orders (the same 13 kills), as a guard on every change.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import nats
import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from contracts.subjects import EVENTS_STREAM
from demo_exchange.audit import audit_exchange
from devstack.nats import EmbeddedNats
from servicekit.mongo import Document, database
from servicekit.outbox import OUTBOX_FIELD
from tests.reliability.storm import Ack, Chaos, Counts, feed_ticks, run_client
from tests.support.factories import fernet_key, user_id
from tests.support.stack import Stack, start_stack
from tests.support.waiting import eventually

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

ORDERS = int(os.environ.get("MONIQO_STORM_ORDERS", "1000"))
WALLETS = 4
CONCURRENCY = 16
PLAN = ["exchange", "exchange", "exchange", "nats"] * 3 + ["exchange"]  # 10 exchange kills, 3 nats kills


@pytest.fixture
def storm_nats(tmp_path: Path) -> Iterator[EmbeddedNats]:
    server = EmbeddedNats(tmp_path / "nats", log_path=tmp_path / "nats-server.log")
    yield server
    server.stop()


@pytest.fixture
def storm_stack(storm_nats: EmbeddedNats, mongo_url: str, tmp_path: Path) -> Iterator[Stack]:
    stack = start_stack(
        nats_url=storm_nats.url,
        mongo_url=mongo_url,
        db_prefix=f"storm_{uuid.uuid4().hex[:8]}",
        log_dir=tmp_path / "logs",
        keys=fernet_key(),
        extra_env={
            "REQUEST_TIMEOUT": "3",  # an order in flight when the exchange dies costs the client 3 s
            "ORDER_RATE_PER_SECOND": "10000",
            "OUTBOX_RELAY_INTERVAL": "0.5",
        },
    )
    yield stack
    stack.stop()


async def read_events(nats_url: str) -> list[tuple[str, str, bytes]]:
    """Every message in MONIQO_EVENTS: (subject, Nats-Msg-Id, data)."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        sub = await js.pull_subscribe(
            "evt.>", stream=EVENTS_STREAM, config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
        )
        out: list[tuple[str, str, bytes]] = []
        pending = (await sub.consumer_info()).num_pending
        while pending:
            for msg in await sub.fetch(min(pending, 500), timeout=10):
                out.append((msg.subject, (msg.headers or {}).get("Nats-Msg-Id", ""), msg.data))
                await msg.ack()
            pending = (await sub.consumer_info()).num_pending
        await sub.unsubscribe()
        return out
    finally:
        await nc.close()


def quiet(exchange: AsyncDatabase[Document]) -> Callable[[], Awaitable[bool]]:
    """True once two probes in a row see the same event sequences and empty outboxes."""
    last: list[object] = []

    async def probe() -> bool:
        states = await exchange["demo_wallet_state"].find({}, {"event_seq": 1, OUTBOX_FIELD: 1}).to_list()
        now = sorted((d["_id"], d["event_seq"], len(d.get(OUTBOX_FIELD) or [])) for d in states)
        settled = bool(last) and last[-1] == now and all(n == 0 for _, _, n in now)
        last.append(now)
        return settled

    return probe


@pytest.mark.reliability
async def test_crash_storm_loses_and_doubles_nothing_and_money_reconciles(
    storm_stack: Stack, storm_nats: EmbeddedNats, mongo_client: AsyncMongoClient[Document], tmp_path: Path
) -> None:
    await storm(ORDERS, storm_stack, storm_nats, mongo_client, tmp_path)


async def test_a_small_crash_storm_loses_and_doubles_nothing_and_money_reconciles(
    storm_stack: Stack, storm_nats: EmbeddedNats, mongo_client: AsyncMongoClient[Document], tmp_path: Path
) -> None:
    await storm(200, storm_stack, storm_nats, mongo_client, tmp_path)


async def storm(
    orders: int,
    stack: Stack,
    storm_nats: EmbeddedNats,
    mongo_client: AsyncMongoClient[Document],
    tmp_path: Path,
) -> None:
    port = int(storm_nats.url.rsplit(":", 1)[1])
    chaos = Chaos(stack, storm_nats, port, tmp_path / "nats-server.log")
    try:
        async with httpx.AsyncClient(base_url=stack.base_url, timeout=10) as http:
            wallets = []
            for _ in range(WALLETS):
                user = user_id("storm")
                body = {
                    "wallet_provider_id": "demo-v1",
                    "custom_name": "storm",
                    "initial_balances": {"USDT": "1000000", "BTC": "50"},
                }
                r = await http.post("/api/v1/user-wallets", json=body, headers=stack.headers(user))
                assert r.status_code == 201, r.text
                wallets.append((r.json()["id"], stack.headers(user)))

            stop_ticks = asyncio.Event()
            ticks = asyncio.create_task(feed_ticks(storm_nats.url, stop_ticks))

            async def quoted() -> bool:
                r = await http.get("/api/v1/market/tickers/BTC-USDT", headers=wallets[0][1])
                return r.status_code == 200

            await eventually(quoted, timeout=20, what="BTC/USDT quoted before the first market order")
            counts = Counts()
            started = time.monotonic()
            chaos_task = asyncio.create_task(chaos.run(PLAN, counts, orders))
            acks = await run_client(http, wallets, orders, counts, CONCURRENCY)
            await chaos_task
            client_done = time.monotonic()
            stop_ticks.set()
            ticks_sent = await ticks
        # A late kill may have left events committed but unpublished: the restarted relay owes them.
        settled_from = max(chaos.last_restart, client_done)

        exchange = database(mongo_client, stack.exchange_db)

        async def outboxes_drained() -> bool:
            pending = await exchange["demo_wallet_state"].count_documents(
                {f"{OUTBOX_FIELD}.0": {"$exists": True}}
            )
            return pending == 0

        await eventually(
            outboxes_drained, timeout=max(0.5, settled_from + 5 - time.monotonic()), what="relayed"
        )
        relayed_after = time.monotonic() - settled_from
        # Ticks still in flight when the feed stopped may fill a few more limits: read once nothing moves.
        await eventually(quiet(exchange), timeout=30, interval=0.5, what="the exchange at rest")

        # -- every acknowledged order exists exactly once, under the id the client was given --
        by_cid: dict[str, set[str]] = defaultdict(set)
        for ack in acks:
            by_cid[ack.client_order_id].add(ack.order_id)
        order_docs = await exchange["demo_orders"].find({}).to_list()
        stored: dict[str, list[Document]] = defaultdict(list)
        for doc in order_docs:
            stored[doc["client_order_id"]].append(doc)
        lost = [cid for cid, ids in by_cid.items() if {d["_id"] for d in stored.get(cid, [])} != ids]
        duplicated = [cid for cid, docs in stored.items() if len(docs) > 1]
        phantom = sorted(set(stored) - set(by_cid))
        assert all(len(ids) == 1 for ids in by_cid.values()), "a retry was answered with another order id"

        # -- one fill per order; one event per fill; every committed event in the stream, once --
        trades = await exchange["demo_trades"].find({}).to_list()
        fills_per_order = Counter(t["order_id"] for t in trades)
        double_fills = {o: n for o, n in fills_per_order.items() if n > 1}
        filled_orders = {d["_id"] for d in order_docs if d["status"] == "filled"}
        events = await read_events(chaos.nats.url)
        ids = Counter(msg_id for _, msg_id, _ in events)
        trade_events = Counter(
            msg_id for subject, msg_id, _ in events if subject.startswith("evt.trade.executed.")
        )
        states = await exchange["demo_wallet_state"].find({}).to_list()
        missing_events = []
        for state in states:
            expected = {f"demo-exchange:{state['_id']}:{seq}" for seq in range(1, state["event_seq"] + 1)}
            missing_events += sorted(expected - set(ids))
        report = await audit_exchange(exchange)

        print(
            "\ncrash storm:",
            f"orders sent {counts.orders}, attempts {counts.attempts}, acknowledged {counts.acknowledged},",
            f"retried {counts.retried} (transport errors {counts.transport_errors},",
            f"statuses {dict(counts.retry_statuses)}), lost {len(lost)}, duplicated {len(duplicated)},",
            f"phantom {len(phantom)}, double fills {len(double_fills)}; filled {len(filled_orders)},",
            f"trades {len(trades)}, trade events {len(trade_events)}, events {len(events)};",
            f"demo-exchange kills {chaos.exchange_kills}, nats-server kills {chaos.nats_kills};",
            f"ticks {ticks_sent};",
            f"outboxes drained {relayed_after:.2f} s after the last restart or order;",
            f"{client_done - started:.1f} s in all; audit: {len(report.accounts)} accounts,",
            f"{report.trades} trades, {len(report.failed)} failing",
        )
        assert counts.refused == []
        assert counts.gave_up == []
        assert counts.acknowledged == orders
        assert (chaos.exchange_kills, chaos.nats_kills) == (10, 3)
        assert lost == []
        assert duplicated == []
        assert phantom == []
        assert double_fills == {}
        assert {t["order_id"] for t in trades} == filled_orders
        assert set(trade_events) == {f"demo-exchange:{t['wallet_id']}:{t['seq']}" for t in trades}
        assert max(ids.values()) == 1  # JetStream kept one copy of every re-published event
        assert missing_events == []
        assert report.failed == [], [a.problems for a in report.failed]
        assert report.pending_trades == 0
        assert len(report.accounts) == WALLETS
        assert isinstance(acks[0], Ack)
    finally:
        chaos.nats.stop()  # the server the chaos left running (the fixture's was killed)
