"""Paper trading over HTTP on the real stack (gateway, wallet-registry, demo-exchange processes; real
NATS and Mongo wire server). Ticks are published on NATS by the tests."""

from __future__ import annotations

import asyncio
import json
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from nats.aio.client import Client
from pymongo import AsyncMongoClient

from contracts.events import EVENT_MODELS
from contracts.subjects import EventType
from servicekit.mongo import Document, database
from tests.e2e.test_wallet_api import assert_problem
from tests.support.events import events_for
from tests.support.factories import binance_wallet_body, user_id
from tests.support.stack import Stack
from tests.support.trading import Trader, publish_tick, set_price
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow
D = Decimal


@pytest.fixture
async def trader(http: httpx.AsyncClient, stack: Stack) -> Trader:
    return await Trader.open(http, stack, user_id("trader"))


async def test_new_demo_wallet_has_an_account_with_its_initial_balances(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    t = await Trader.open(http, stack, user_id(), balances={"USDT": "2500", "ETH": "1.5"})
    assert await t.balances() == {
        "ETH": {"free": D("1.5"), "locked": D(0), "total": D("1.5")},
        "USDT": {"free": D(2500), "locked": D(0), "total": D(2500)},
    }


async def test_market_buy_pays_slipped_price_and_fee(
    http: httpx.AsyncClient, stack: Stack, nc: Client, trader: Trader
) -> None:
    await set_price(http, stack, nc, "BTC/USDT", "65000.00")
    r = await trader.order(symbol="BTC/USDT", side="buy", type="market", quantity="0.01")
    assert r.status_code == 201, r.text
    order = r.json()
    assert (order["status"], D(order["average_price"]), D(order["fee"]["amount"])) == (
        "filled",
        D("65006.5"),
        D("0.650065"),
    )
    balances = await trader.balances()
    assert balances["USDT"]["free"] == D("10000") - D("650.715065")
    assert balances["BTC"]["free"] == D("0.01")


async def test_market_sell_receives_slipped_price_minus_fee(
    http: httpx.AsyncClient, stack: Stack, nc: Client
) -> None:
    t = await Trader.open(http, stack, user_id(), balances={"BTC": "1"})
    await set_price(http, stack, nc, "BTC/USDT", "65000.00")
    r = await t.order(symbol="BTC/USDT", side="sell", type="market", quantity="0.01")
    assert r.status_code == 201, r.text
    assert (await t.balances())["USDT"]["free"] == D("649.285065")


async def test_limit_buy_rests_then_fills_at_its_limit_on_a_tick(
    http: httpx.AsyncClient, stack: Stack, nc: Client, trader: Trader
) -> None:
    await set_price(http, stack, nc, "ETH/USDT", "3500.00")
    r = await trader.order(symbol="ETH/USDT", side="buy", type="limit", quantity="0.5", price="3400.00")
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["status"] == "open"
    assert (order["locked"]["asset"], D(order["locked"]["amount"])) == ("USDT", D("1701.7"))
    assert (await trader.balances())["USDT"] == {
        "free": D("8298.3"),
        "locked": D("1701.7"),
        "total": D(10000),
    }
    await publish_tick(nc, "ETH/USDT", "3399.50")
    filled = await trader.wait_order(order["id"], "filled")
    assert D(filled["average_price"]) == D("3400")
    trades = (await trader.get("/trades")).json()["items"]
    assert [(t["order_id"], t["liquidity"], D(t["quote"]["price"])) for t in trades] == [
        (order["id"], "maker", D("3399.50"))
    ]
    assert (await trader.balances())["USDT"] == {"free": D("8298.3"), "locked": D(0), "total": D("8298.3")}


async def test_stop_sell_triggers_on_the_first_tick_at_or_below(
    http: httpx.AsyncClient, stack: Stack, nc: Client
) -> None:
    t = await Trader.open(http, stack, user_id(), balances={"SOL": "10"})
    await set_price(http, stack, nc, "SOL/USDT", "150.00")
    r = await t.order(symbol="SOL/USDT", side="sell", type="stop", quantity="2", stop_price="140.00")
    order = r.json()
    assert order["status"] == "open"
    await publish_tick(nc, "SOL/USDT", "141.00")
    await publish_tick(nc, "SOL/USDT", "139.00")
    filled = await t.wait_order(order["id"], "filled")
    assert filled["triggered_at"] is not None
    # exec = 139 x 0.9999 = 138.9861; proceeds = 277.9722; fee = 0.2779722
    assert D(filled["average_price"]) == D("138.9861")
    assert (await t.balances())["USDT"]["free"] == D("277.6942278")


async def test_cancel_releases_the_lock_and_a_second_cancel_is_409(
    http: httpx.AsyncClient, stack: Stack, nc: Client, trader: Trader
) -> None:
    await set_price(http, stack, nc, "BTC/USDT", "65000.00")
    order = (
        await trader.order(symbol="BTC/USDT", side="buy", type="limit", quantity="0.01", price="60000.00")
    ).json()
    r = await trader.http.delete(f"{trader.base}/orders/{order['id']}", headers=trader.headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "canceled"
    assert (await trader.balances())["USDT"] == {"free": D(10000), "locked": D(0), "total": D(10000)}
    again = await trader.http.delete(f"{trader.base}/orders/{order['id']}", headers=trader.headers)
    assert_problem(again, 409, "order_not_open")
    missing = await trader.http.delete(f"{trader.base}/orders/nope", headers=trader.headers)
    assert_problem(missing, 404, "order_not_found")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"symbol": "DOGE/USDT", "side": "buy", "type": "market", "quantity": "1"}, "unknown_symbol"),
        ({"symbol": "BTC/USDT", "side": "buy", "type": "market", "quantity": "0.000015"}, "invalid_quantity"),
        (
            {"symbol": "BTC/USDT", "side": "buy", "type": "limit", "quantity": "0.01", "price": "1.001"},
            "invalid_price",
        ),
        (
            {"symbol": "BTC/USDT", "side": "buy", "type": "limit", "quantity": "0.00001", "price": "100.00"},
            "below_min_notional",
        ),
        ({"symbol": "BTC/USDT", "side": "buy", "type": "market", "quantity": "1"}, "insufficient_funds"),
        (
            {"symbol": "BTC/USDT", "side": "sell", "type": "limit", "quantity": "0.1", "price": "90000.00"},
            "insufficient_funds",
        ),
        ({"symbol": "BTC/USDT", "side": "buy", "type": "market", "quantity": 0.01}, "validation_error"),
        ({"symbol": "BTC/USDT", "side": "hold", "type": "market", "quantity": "0.01"}, "validation_error"),
        (
            {"symbol": "BTC/USDT", "side": "buy", "type": "market", "quantity": "0.01", "leverage": "10"},
            "validation_error",
        ),
    ],
)
async def test_rejected_orders_are_422_and_create_nothing(
    http: httpx.AsyncClient, stack: Stack, nc: Client, trader: Trader, body: dict[str, Any], code: str
) -> None:
    await set_price(http, stack, nc, "BTC/USDT", "65000.00")
    assert_problem(await trader.order(**body), 422, code)
    assert (await trader.get("/orders")).json()["items"] == []
    assert (await trader.balances())["USDT"] == {"free": D(10000), "locked": D(0), "total": D(10000)}


async def test_orders_are_found_by_id_or_client_order_id_and_filtered_by_status(
    http: httpx.AsyncClient, stack: Stack, nc: Client, trader: Trader
) -> None:
    await set_price(http, stack, nc, "BTC/USDT", "65000.00")
    filled = (
        await trader.order(
            symbol="BTC/USDT", side="buy", type="market", quantity="0.001", client_order_id="mine-1"
        )
    ).json()
    resting = (
        await trader.order(symbol="BTC/USDT", side="buy", type="limit", quantity="0.001", price="50000.00")
    ).json()
    assert (await trader.get("/orders/mine-1")).json()["id"] == filled["id"]
    assert (await trader.get(f"/orders/{resting['id']}")).json()["status"] == "open"
    assert [o["id"] for o in (await trader.get("/orders", status="open")).json()["items"]] == [resting["id"]]
    assert [o["id"] for o in (await trader.get("/orders", status="closed")).json()["items"]] == [filled["id"]]
    assert [o["id"] for o in (await trader.get("/orders")).json()["items"]] == [resting["id"], filled["id"]]
    assert (await trader.get("/orders", symbol="ETH/USDT")).json()["items"] == []
    assert_problem(await trader.get("/orders/unknown"), 404, "order_not_found")


async def test_same_client_order_id_returns_the_original_with_200_and_a_changed_body_is_409(
    http: httpx.AsyncClient, stack: Stack, nc: Client, trader: Trader
) -> None:
    await set_price(http, stack, nc, "BTC/USDT", "65000.00")
    body = {
        "symbol": "BTC/USDT",
        "side": "buy",
        "type": "market",
        "quantity": "0.01",
        "client_order_id": "retry-me",
    }
    first = await trader.order(**body)
    again = await trader.order(**body)
    other = await trader.order(**{**body, "quantity": "0.02"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert_problem(other, 409, "duplicate_client_order_id")
    assert len((await trader.get("/trades")).json()["items"]) == 1


async def test_50_concurrent_market_buys_that_can_afford_20_fill_exactly_20(
    http: httpx.AsyncClient, stack: Stack, nc: Client
) -> None:
    await set_price(http, stack, nc, "BTC/USDT", "65000.00")
    # each buy of 0.001 costs 65.0065 + 0.0650065 = 65.0715065; 20 of them = 1301.43013
    t = await Trader.open(http, stack, user_id(), balances={"USDT": "1301.43013"})
    replies = await asyncio.gather(
        *(t.order(symbol="BTC/USDT", side="buy", type="market", quantity="0.001") for _ in range(50))
    )
    codes = sorted(r.status_code for r in replies)
    assert codes == [201] * 20 + [422] * 30
    assert {r.json()["code"] for r in replies if r.status_code == 422} == {"insufficient_funds"}
    assert await t.balances() == {
        "BTC": {"free": D("0.02"), "locked": D(0), "total": D("0.02")},
        "USDT": {"free": D(0), "locked": D(0), "total": D(0)},
    }
    assert len((await t.get("/trades", limit=200)).json()["items"]) == 20


async def test_the_same_client_order_id_sent_20_times_at_once_makes_one_order(
    http: httpx.AsyncClient, stack: Stack, nc: Client, trader: Trader
) -> None:
    await set_price(http, stack, nc, "BTC/USDT", "65000.00")
    body = {
        "symbol": "BTC/USDT",
        "side": "buy",
        "type": "market",
        "quantity": "0.001",
        "client_order_id": f"burst-{uuid.uuid4().hex}",
    }
    replies = await asyncio.gather(*(trader.order(**body) for _ in range(20)))
    assert sorted(r.status_code for r in replies) == [200] * 19 + [201]
    assert len({r.json()["id"] for r in replies}) == 1
    assert len((await trader.get("/trades")).json()["items"]) == 1


async def test_deposit_withdraw_and_reset(
    http: httpx.AsyncClient, stack: Stack, nc: Client, trader: Trader
) -> None:
    h = trader.headers
    r = await http.post(f"{trader.base}/deposits", json={"asset": "ETH", "amount": "2.5"}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["balances"]["ETH"] == {"free": "2.5", "locked": "0", "total": "2.5"}
    r = await http.post(f"{trader.base}/withdrawals", json={"asset": "USDT", "amount": "100"}, headers=h)
    assert D(r.json()["balances"]["USDT"]["free"]) == D(9900)
    too_much = await http.post(f"{trader.base}/withdrawals", json={"asset": "ETH", "amount": "3"}, headers=h)
    assert_problem(too_much, 422, "insufficient_funds")
    assert_problem(
        await http.post(f"{trader.base}/deposits", json={"asset": "ETH", "amount": 1}, headers=h),
        422,
        "validation_error",
    )
    await set_price(http, stack, nc, "BTC/USDT", "65000.00")
    resting = (
        await trader.order(symbol="BTC/USDT", side="buy", type="limit", quantity="0.01", price="1000.00")
    ).json()
    r = await http.post(f"{trader.base}/reset", json={"balances": {"USDT": "500"}}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["balances"] == {"USDT": {"free": "500", "locked": "0", "total": "500"}}
    assert (await trader.get(f"/orders/{resting['id']}")).json()["status"] == "canceled"
    r = await http.post(f"{trader.base}/reset", headers=h)
    assert r.json()["balances"] == {"USDT": {"free": "10000", "locked": "0", "total": "10000"}}


@pytest.mark.parametrize(
    ("limits", "body", "limit_name"),
    [
        (
            {"max_order_notional": "100"},
            {"symbol": "BTC/USDT", "side": "buy", "type": "market", "quantity": "0.01"},
            "max_order_notional",
        ),
        (
            {"allowed_symbols": ["ETH/USDT"]},
            {"symbol": "BTC/USDT", "side": "buy", "type": "market", "quantity": "0.001"},
            "allowed_symbols",
        ),
    ],
)
async def test_risk_limits_refuse_orders_naming_the_limit(
    http: httpx.AsyncClient,
    stack: Stack,
    nc: Client,
    limits: dict[str, Any],
    body: dict[str, Any],
    limit_name: str,
) -> None:
    t = await Trader.open(http, stack, user_id(), risk_limits=limits)
    await set_price(http, stack, nc, "BTC/USDT", "65000.00")
    problem = assert_problem(await t.order(**body), 422, "risk_limit_exceeded")
    assert limit_name in problem["detail"]


async def test_max_open_orders_and_limits_changed_later_apply(
    http: httpx.AsyncClient, stack: Stack, nc: Client
) -> None:
    t = await Trader.open(http, stack, user_id(), risk_limits={"max_open_orders": 1})
    await set_price(http, stack, nc, "BTC/USDT", "65000.00")
    resting = {"symbol": "BTC/USDT", "side": "buy", "type": "limit", "quantity": "0.001", "price": "50000.00"}
    assert (await t.order(**resting)).status_code == 201
    assert "max_open_orders" in assert_problem(await t.order(**resting), 422, "risk_limit_exceeded")["detail"]
    r = await http.put(
        f"/api/v1/user-wallets/{t.wallet['id']}",
        json={"risk_limits": {"max_open_orders": 5}},
        headers=t.headers,
    )
    assert r.status_code == 200
    assert (await t.order(**resting)).status_code == 201


async def test_trading_on_a_non_demo_wallet_is_422_not_supported(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    user = user_id()
    wallet = (
        await http.post("/api/v1/user-wallets", json=binance_wallet_body(), headers=stack.headers(user))
    ).json()
    r = await http.get(f"/api/v1/user-wallets/{wallet['id']}/balances", headers=stack.headers(user))
    assert_problem(r, 422, "not_supported")


async def test_another_user_gets_404_on_every_trading_route(
    http: httpx.AsyncClient, stack: Stack, nc: Client, trader: Trader
) -> None:
    await set_price(http, stack, nc, "BTC/USDT", "65000.00")
    order = (
        await trader.order(symbol="BTC/USDT", side="buy", type="limit", quantity="0.001", price="50000.00")
    ).json()
    h = stack.headers(user_id("intruder"))
    probes = [
        ("GET", "/balances", None),
        ("GET", "/orders", None),
        ("GET", f"/orders/{order['id']}", None),
        ("DELETE", f"/orders/{order['id']}", None),
        ("GET", "/trades", None),
        ("POST", "/orders", {"symbol": "BTC/USDT", "side": "buy", "type": "market", "quantity": "0.001"}),
        ("POST", "/reset", {}),
        ("POST", "/deposits", {"asset": "USDT", "amount": "1"}),
        ("POST", "/withdrawals", {"asset": "USDT", "amount": "1"}),
        ("POST", "/test-connection", None),
    ]
    for method, path, body in probes:
        r = await http.request(method, f"{trader.base}{path}", json=body, headers=h)
        assert_problem(r, 404, "wallet_not_found")
    assert (await trader.get(f"/orders/{order['id']}")).json()["status"] == "open"


async def test_events_arrive_once_per_change_with_gapless_sequences(
    http: httpx.AsyncClient, stack: Stack, nc: Client, trader: Trader
) -> None:
    await set_price(http, stack, nc, "BTC/USDT", "65000.00")
    market = (await trader.order(symbol="BTC/USDT", side="buy", type="market", quantity="0.001")).json()
    limit = (
        await trader.order(symbol="BTC/USDT", side="buy", type="limit", quantity="0.001", price="64000.00")
    ).json()
    await publish_tick(nc, "BTC/USDT", "63000.00")
    await trader.wait_order(limit["id"], "filled")
    deposit = await trader.http.post(
        f"{trader.base}/deposits", json={"asset": "ETH", "amount": "1"}, headers=trader.headers
    )
    assert deposit.status_code == 200

    async def exchange_events() -> list[dict[str, Any]] | None:
        found = [json.loads(data) for subject, data, _ in await events_for(nc, trader.wallet["id"])]
        for event in found:  # each matches the typed envelope docs/asyncapi.json documents for its type
            EVENT_MODELS[EventType(event["event_type"])].model_validate(event)
        mine = [e for e in found if e["event_id"].startswith("demo-exchange:")]
        return mine if len(mine) >= 10 else None

    events = await eventually(exchange_events, what="ten exchange events")
    kinds = [(e["event_type"], e["data"].get("id") or e["data"].get("order_id")) for e in events]
    # open: balances (1); market: order, trade, balances (3); limit rests: order, balances (2);
    # fill: order, trade, balances (3); deposit: balances (1)
    assert len(events) == 10
    assert [e["sequence"] for e in events] == list(range(1, 11))
    assert [k[0] for k in kinds].count("balance.changed") == 5
    assert events[-1]["event_type"] == "balance.changed"
    assert events[-1]["data"]["changes"] == {"ETH": "1"}
    assert kinds.count(("trade.executed", f"{market['id']}-1")) == 1
    assert kinds.count(("trade.executed", f"{limit['id']}-1")) == 1
    assert [k for k in kinds if k[0] == "order.updated"] == [
        ("order.updated", market["id"]),
        ("order.updated", limit["id"]),
        ("order.updated", limit["id"]),
    ]
    assert len({e["event_id"] for e in events}) == len(events)


async def test_deleting_a_demo_wallet_cancels_its_open_orders(
    http: httpx.AsyncClient,
    stack: Stack,
    nc: Client,
    trader: Trader,
    mongo_client: AsyncMongoClient[Document],
) -> None:
    await set_price(http, stack, nc, "BTC/USDT", "65000.00")
    order = (
        await trader.order(symbol="BTC/USDT", side="buy", type="limit", quantity="0.01", price="60000.00")
    ).json()
    assert (
        await http.delete(f"/api/v1/user-wallets/{trader.wallet['id']}", headers=trader.headers)
    ).status_code == 204
    orders = database(mongo_client, stack.exchange_db)["demo_orders"]

    async def canceled() -> Document | None:
        return await orders.find_one({"_id": order["id"], "status": "canceled"})

    doc = await eventually(canceled, what="the open order canceled")
    assert doc["reason"] == "wallet_deleted"
    assert_problem(await trader.get("/balances"), 404, "wallet_not_found")


async def test_market_data_lists_symbols_and_quotes_the_last_tick(
    http: httpx.AsyncClient, stack: Stack, nc: Client
) -> None:
    h = stack.headers(user_id())
    symbols = (await http.get("/api/v1/market/symbols", headers=h)).json()
    assert {s["symbol"] for s in symbols} >= {"BTC/USDT", "ETH/USDT", "SOL/USDT"}
    btc = next(s for s in symbols if s["symbol"] == "BTC/USDT")
    assert (btc["maker_fee_rate"], btc["taker_fee_rate"], btc["min_notional"]) == ("0.001", "0.001", "5")
    await set_price(http, stack, nc, "SOL/USDT", "151.23")
    ticker = (await http.get("/api/v1/market/tickers/SOL-USDT", headers=h)).json()
    assert (ticker["symbol"], ticker["price"], ticker["source"]) == ("SOL/USDT", "151.23", "test")
    assert_problem(await http.get("/api/v1/market/tickers/DOGE-USDT", headers=h), 404, "not_found")
    assert_problem(await http.get("/api/v1/market/tickers/btcusdt", headers=h), 422, "unknown_symbol")


async def test_test_connection_pings_demo_exchange_and_reports_no_connector_for_real_exchanges(
    http: httpx.AsyncClient, stack: Stack, trader: Trader
) -> None:
    r = await http.post(f"{trader.base}/test-connection", headers=trader.headers)
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["success"] is True
    assert result["latency_ms"] > 0
    user = user_id()
    binance = (
        await http.post("/api/v1/user-wallets", json=binance_wallet_body(), headers=stack.headers(user))
    ).json()
    r = await http.post(f"/api/v1/user-wallets/{binance['id']}/test-connection", headers=stack.headers(user))
    assert r.status_code == 200
    assert r.json()["success"] is False
    assert "no connector" in r.json()["message"]


async def test_200_identical_submissions_at_once_make_one_order_and_200_identical_bodies(
    http: httpx.AsyncClient, stack: Stack, nc: Client, trader: Trader
) -> None:
    await set_price(http, stack, nc, "ETH/USDT", "3500.00")
    body = {
        "symbol": "ETH/USDT",
        "side": "buy",
        "type": "limit",
        "quantity": "0.01",
        "price": "3000.00",
        "client_order_id": f"storm-{uuid.uuid4().hex}",
    }
    replies = await asyncio.gather(*(trader.order(**body) for _ in range(200)))
    assert sorted(r.status_code for r in replies) == [200] * 199 + [201]
    assert len({r.text for r in replies}) == 1  # byte-identical bodies
    assert [o["client_order_id"] for o in (await trader.get("/orders")).json()["items"]] == [
        body["client_order_id"]
    ]
    different = await trader.order(**{**body, "price": "3001.00"})
    assert_problem(different, 409, "duplicate_client_order_id")
