"""balance-sync on the real stack: manual and post-trade syncs, the registry's caches, SSE of my events."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from bson import ObjectId
from nats.aio.client import Client
from pymongo import AsyncMongoClient

from balance_sync.domain.rules import post_trade_job
from servicekit.consumers import durable_name
from servicekit.mongo import Document, database
from tests.e2e.test_wallet_api import assert_problem
from tests.support.events import events_for
from tests.support.factories import user_id
from tests.support.stack import Stack
from tests.support.trading import Trader, set_price
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow
DEBOUNCE = 2.0  # balance-sync's POST_TRADE_DEBOUNCE default, which the stack uses
D = Decimal


async def test_manual_sync_returns_a_log_with_the_snapshot_and_changes(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    t = await Trader.open(http, stack, user_id(), balances={"USDT": "1000"})
    first = await http.post(f"/api/v1/user-wallets/{t.wallet['id']}/sync-balance", headers=t.headers)
    assert first.status_code == 200, first.text
    log = first.json()
    assert (log["status"], log["trigger"], log["error"]) == ("success", "manual", None)
    assert log["balance_snapshot"] == {"USDT": "1000"}
    await http.post(f"{t.base}/deposits", json={"asset": "USDT", "amount": "5"}, headers=t.headers)
    second = (
        await http.post(f"/api/v1/user-wallets/{t.wallet['id']}/sync-balance", headers=t.headers)
    ).json()
    assert second["balance_snapshot"] == {"USDT": "1005"}
    logs = (await t.get("/sync-logs")).json()["items"]
    ids = [entry["id"] for entry in logs]
    assert ids[0] == second["id"]  # newest first
    # The deposit shows up as +5 in the syncs after the first one (a scheduled sweep may land in between).
    later = logs[: ids.index(log["id"])]
    assert sum((D(e["balance_changes"].get("USDT", "0")) for e in later), D(0)) == D(5)


async def test_sync_logs_and_sync_of_another_users_wallet_are_404(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    t = await Trader.open(http, stack, user_id())
    intruder = stack.headers(user_id("intruder"))
    assert_problem(await http.get(f"{t.base}/sync-logs", headers=intruder), 404, "wallet_not_found")
    assert_problem(await http.post(f"{t.base}/sync-balance", headers=intruder), 404, "wallet_not_found")


async def test_a_market_buy_leads_to_a_post_trade_sync_and_updated_registry_caches(
    http: httpx.AsyncClient, stack: Stack, nc: Client, mongo_client: AsyncMongoClient[Document]
) -> None:
    t = await Trader.open(http, stack, user_id(), balances={"USDT": "1000"})
    baseline = await http.post(f"{t.base}/sync-balance", headers=t.headers)  # a snapshot to compare against
    assert baseline.status_code == 200, baseline.text
    await set_price(http, stack, nc, "BTC/USDT", "65000.00")
    r = await t.order(symbol="BTC/USDT", side="buy", type="market", quantity="0.001")
    assert r.status_code == 201, r.text

    async def after_baseline() -> list[dict[str, Any]] | None:
        logs: list[dict[str, Any]] = (await t.get("/sync-logs")).json()["items"]
        later = logs[: [e["id"] for e in logs].index(baseline.json()["id"])]
        return later if any(e["trigger"] == "post_trade" for e in later) else None

    later = await eventually(after_baseline, timeout=20, what="a post_trade sync log")
    post_trade = next(e for e in later if e["trigger"] == "post_trade")
    snapshot = {a: D(v) for a, v in post_trade["balance_snapshot"].items()}
    assert snapshot == {"BTC": D("0.001"), "USDT": D("934.9284935")}
    # 0.001 BTC bought for 65.0065 + 0.0650065 fee, in the syncs since the baseline (the stack's start-up
    # sweep, retried until the registry answers, may land in between and take part of it).
    changes: dict[str, Decimal] = {}
    for entry in later:
        for asset, delta in entry["balance_changes"].items():
            changes[asset] = changes.get(asset, D(0)) + D(delta)
    assert changes == {"BTC": D("0.001"), "USDT": D("-65.0715065")}

    async def cached() -> dict[str, Any] | None:
        wallet = (await http.get(f"/api/v1/user-wallets/{t.wallet['id']}", headers=t.headers)).json()
        return wallet if wallet["total_trades"] == 1 and wallet["balance"].get("BTC") == "0.001" else None

    wallet = await eventually(cached, timeout=20, what="the registry's cached balance and trade count")
    assert D(wallet["balance"]["USDT"]) == D("934.9284935")
    assert wallet["last_synced_at"] is not None
    assert D(wallet["total_pnl"]) == 0  # nothing sold yet: nothing realised

    # Replaying the same trade event (as a redelivery would) leaves the counters unchanged.
    trade_events = [
        (s, data)
        for s, data, _ in await events_for(nc, t.wallet["id"])
        if s.startswith("evt.trade.executed.")
    ]
    js = nc.jetstream()
    last = 0
    for _ in range(2):
        ack = await js.publish(
            trade_events[0][0], trade_events[0][1], headers={"Nats-Msg-Id": f"replay-{uuid.uuid4().hex}"}
        )
        last = ack.seq
    registry = database(mongo_client, stack.registry_db)["user_wallets"]

    async def replays_consumed() -> bool:
        info = await nc.jsm().consumer_info(
            "MONIQO_EVENTS", durable_name(stack.db_prefix, "wallet-registry-trades")
        )
        return bool(info.ack_floor.stream_seq >= last)

    await eventually(replays_consumed, timeout=20, what="the registry consumed both replays")
    doc = await registry.find_one({"_id": ObjectId(t.wallet["id"])})
    assert doc is not None
    assert doc["total_trades"] == 1


async def test_realised_pnl_is_booked_when_selling(http: httpx.AsyncClient, stack: Stack, nc: Client) -> None:
    t = await Trader.open(http, stack, user_id(), balances={"USDT": "1000"})
    await set_price(http, stack, nc, "SOL/USDT", "100.00")
    assert (
        await t.order(symbol="SOL/USDT", side="buy", type="limit", quantity="1", price="100.00")
    ).status_code == 201
    await set_price(http, stack, nc, "SOL/USDT", "110.00")
    assert (
        await t.order(symbol="SOL/USDT", side="sell", type="limit", quantity="1", price="110.00")
    ).status_code == 201

    async def booked() -> dict[str, Any] | None:
        wallet = (await http.get(f"/api/v1/user-wallets/{t.wallet['id']}", headers=t.headers)).json()
        return wallet if wallet["total_trades"] == 2 else None

    wallet = await eventually(booked, timeout=20, what="two trades counted")
    # bought for 100 + 0.1 fee; sold for 110 - 0.11 fee: realised 9.79
    assert D(wallet["total_pnl"]) == D("9.79")


async def read_sse(
    http: httpx.AsyncClient, headers: dict[str, str], count: int, **params: Any
) -> list[tuple[str, dict[str, Any]]]:
    """Read ``count`` SSE events: (id, event)."""
    out: list[tuple[str, dict[str, Any]]] = []
    async with http.stream("GET", "/api/v1/events", headers=headers, params=params, timeout=30) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        fields: dict[str, str] = {}
        async for line in response.aiter_lines():
            if line == "":  # an event ends at a blank line; its fields may come in any order
                if "data" in fields:
                    out.append((fields.get("id", ""), json.loads(fields["data"])))
                    if len(out) >= count:
                        break
                fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
    return out


async def test_sse_streams_my_events_in_order_only_mine_and_resumes_with_last_event_id(
    http: httpx.AsyncClient, stack: Stack, nc: Client
) -> None:
    alice = await Trader.open(http, stack, user_id("alice"))
    bob = await Trader.open(http, stack, user_id("bob"))
    await set_price(http, stack, nc, "BTC/USDT", "65000.00")
    for trader in (alice, bob, alice, bob, alice):
        assert (
            await trader.order(symbol="BTC/USDT", side="buy", type="market", quantity="0.001")
        ).status_code == 201

    mine = await read_sse(http, alice.headers, 6, after=0, wallet_id=alice.wallet["id"])
    assert {e["user_id"] for _, e in mine} == {alice.user}
    all_of_mine = await read_sse(http, alice.headers, 12, after=0)
    assert {e["user_id"] for _, e in all_of_mine} == {alice.user}
    trades = [e for _, e in all_of_mine if e["event_type"] == "trade.executed"]
    assert len(trades) == 3
    ids = [int(i) for i, _ in all_of_mine]
    assert ids == sorted(ids)

    # Reconnect after the 4th event: the 5th onwards, nothing lost, nothing repeated.
    resume_from = all_of_mine[3][0]
    resumed = await read_sse(http, {**alice.headers, "Last-Event-ID": resume_from}, 8)
    assert [i for i, _ in resumed] == [i for i, _ in all_of_mine[4:12]]


async def test_sse_for_another_users_wallet_is_404(http: httpx.AsyncClient, stack: Stack) -> None:
    t = await Trader.open(http, stack, user_id())
    r = await http.get(
        "/api/v1/events", params={"wallet_id": t.wallet["id"]}, headers=stack.headers(user_id("x"))
    )
    assert_problem(r, 404, "wallet_not_found")


def test_moniqo_sync_stats_reports_syncs_and_consumers(stack: Stack, nats_url: str) -> None:
    from typer.testing import CliRunner

    from moniqo_cli.main import app

    result = CliRunner().invoke(app, ["sync", "stats", "--json"], env={"NATS_URL": nats_url})
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    assert stats["last_hour"]["success"] >= 1  # the syncs of the tests above
    assert stats["last_sweep_window"] is not None
    assert any(name.endswith("balance-sync-jobs") for name in stats["consumers"])
    tables = CliRunner().invoke(app, ["sync", "stats"], env={"NATS_URL": nats_url})
    assert "Consumers" in tables.stdout


async def test_a_burst_of_100_fills_leads_to_a_handful_of_syncs_the_last_after_the_last_fill(
    http: httpx.AsyncClient, stack: Stack, nc: Client
) -> None:
    t = await Trader.open(http, stack, user_id(), balances={"USDT": "100000"})
    await set_price(http, stack, nc, "SOL/USDT", "150.00")
    for _ in range(100):
        assert (
            await t.order(symbol="SOL/USDT", side="buy", type="market", quantity="0.05")
        ).status_code == 201
    trades = (await t.get("/trades", limit=200)).json()["items"]
    assert len(trades) == 100
    last_fill = max(tr["executed_at"] for tr in trades)
    final = await t.balances()
    # Fills share a post-trade job per debounce bucket (POST_TRADE_DEBOUNCE, 2 s by default): exactly
    # that many syncs, however many fills, the newest after the last fill and holding the final balance.
    buckets = {
        post_trade_job(t.wallet["id"], datetime.fromisoformat(tr["executed_at"]), DEBOUNCE)[0]
        for tr in trades
    }
    assert len(buckets) < len(trades)  # fills shared buckets (how many depends on the machine's pace)

    async def settled() -> list[dict[str, Any]] | None:
        logs = [
            entry
            for entry in (await t.get("/sync-logs", limit=200)).json()["items"]
            if entry["trigger"] == "post_trade"
        ]
        newest = logs[0] if logs else None
        caught_up = newest is not None and {a: D(v) for a, v in newest["balance_snapshot"].items()} == {
            a: b["total"] for a, b in final.items()
        }
        return logs if caught_up and len(logs) >= len(buckets) else None

    logs = await eventually(
        settled, timeout=30, interval=0.25, what="one post-trade sync per debounce bucket"
    )
    assert len(logs) == len(buckets), f"{len(logs)} syncs for {len(buckets)} buckets"
    assert logs[0]["synced_at"] > last_fill


async def test_sse_resume_prefers_last_event_id_over_the_original_after_and_refuses_bad_positions(
    http: httpx.AsyncClient, stack: Stack, nc: Client
) -> None:
    t = await Trader.open(http, stack, user_id("resumer"))
    await http.post(f"{t.base}/deposits", json={"asset": "USDT", "amount": "1"}, headers=t.headers)
    await http.post(f"{t.base}/deposits", json={"asset": "USDT", "amount": "2"}, headers=t.headers)
    everything = await read_sse(http, t.headers, 3, after=0, wallet_id=t.wallet["id"])
    # An EventSource reconnects to its original URL (after=0) and adds Last-Event-ID: the header wins.
    resumed = await read_sse(
        http, {**t.headers, "Last-Event-ID": everything[1][0]}, 1, after=0, wallet_id=t.wallet["id"]
    )
    assert [i for i, _ in resumed] == [everything[2][0]]
    too_far = await http.get("/api/v1/events", params={"after": str(10**20)}, headers=t.headers)
    assert_problem(too_far, 422, "validation_error")
    # A Last-Event-ID that is not a position is ignored (no 500 after the stream has started).
    odd = await read_sse(http, {**t.headers, "Last-Event-ID": "4x"}, 1, after=0, wallet_id=t.wallet["id"])
    assert odd[0][0] == everything[0][0]


async def test_request_id_travels_into_the_events_it_causes(
    http: httpx.AsyncClient, stack: Stack, nc: Client
) -> None:
    user = user_id("traced")
    trace = f"trace-{uuid.uuid4().hex[:12]}"
    h = {**stack.headers(user), "X-Request-ID": trace}
    r = await http.post(
        "/api/v1/user-wallets", json={"wallet_provider_id": "demo-v1", "custom_name": "t"}, headers=h
    )
    assert r.status_code == 201
    assert r.headers["x-request-id"] == trace
    wallet_id = r.json()["id"]
    await set_price(http, stack, nc, "BTC/USDT", "65000.00")
    order = await http.post(
        f"/api/v1/user-wallets/{wallet_id}/orders",
        json={"symbol": "BTC/USDT", "side": "buy", "type": "market", "quantity": "0.001"},
        headers={**h, "X-Request-ID": f"{trace}-order"},
    )
    assert order.status_code == 201

    async def traced_events() -> list[dict[str, Any]] | None:
        found = [json.loads(data) for _, data, _ in await events_for(nc, wallet_id)]
        mine = [e for e in found if e["event_type"] in {"wallet.created", "trade.executed"}]
        return mine if len(mine) >= 2 else None

    events = await eventually(traced_events, what="the created and trade events")
    by_type = {e["event_type"]: e["correlation_id"] for e in events}
    assert by_type == {"wallet.created": trace, "trade.executed": f"{trace}-order"}
    generated = await http.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert generated.headers["x-request-id"] != "bad id with spaces"
    assert len(generated.headers["x-request-id"]) == 32
