"""The operator's commands on a live platform: ``moniqo audit`` (money conservation of every demo account)
and ``moniqo wallets list`` (users' wallets, credential names only)."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from nats.aio.client import Client
from pymongo import AsyncMongoClient
from typer.testing import CliRunner

from moniqo_cli.main import app
from servicekit.mongo import Document, database
from tests.support.factories import binance_credentials, binance_wallet_body, user_id
from tests.support.stack import Stack
from tests.support.trading import Trader, publish_tick, set_price
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow
runner = CliRunner()


def cli(stack: Stack, mongo_url: str, *args: str) -> tuple[int, str]:
    # CliRunner runs the command in this process: it calls asyncio.run(), so not from the test's own loop.
    env = {"MONGODB_URL": mongo_url, "MONGODB_DB_PREFIX": stack.db_prefix, "COLUMNS": "300"}
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout


async def run_cli(stack: Stack, mongo_url: str, *args: str) -> tuple[int, str]:
    return await asyncio.to_thread(cli, stack, mongo_url, *args)


async def audit(stack: Stack, mongo_url: str) -> tuple[int, dict[str, Any]]:
    code, out = await run_cli(stack, mongo_url, "audit", "--json")
    return code, json.loads(out)


async def test_audit_reconciles_deposits_trades_fees_and_locks_then_flags_a_tampered_balance(
    http: httpx.AsyncClient,
    stack: Stack,
    nc: Client,
    mongo_url: str,
    mongo_client: AsyncMongoClient[Document],
) -> None:
    t = await Trader.open(http, stack, user_id("audited"), balances={"USDT": "20000"})
    r = await http.post(f"{t.base}/deposits", json={"asset": "USDT", "amount": "1000"}, headers=t.headers)
    assert r.status_code == 200, r.text
    await set_price(http, stack, nc, "BTC/USDT", "66000")
    assert (await t.order(symbol="BTC/USDT", side="buy", type="market", quantity="0.05")).status_code == 201
    rest = await t.order(symbol="BTC/USDT", side="sell", type="limit", quantity="0.02", price="67000")
    assert rest.status_code == 201, rest.text
    assert (
        await t.order(symbol="BTC/USDT", side="buy", type="limit", quantity="0.01", price="60000")
    ).is_success
    await publish_tick(nc, "BTC/USDT", "67000")
    await t.wait_order(rest.json()["id"], "filled")
    r = await http.post(f"{t.base}/withdrawals", json={"asset": "BTC", "amount": "0.001"}, headers=t.headers)
    assert r.status_code == 200, r.text

    code, report = await audit(stack, mongo_url)
    assert code == 0, report["problems"]
    assert report["ok"] is True
    assert report["trades"] >= 2
    assert Decimal(report["totals"]["USDT"]["fees"]) > 0
    assert Decimal(report["totals"]["USDT"]["locked"]) > 0  # the resting buy's lock is accounted for

    # Money that appears from nowhere (a write behind the exchange's back) is caught, and named.
    state = database(mongo_client, stack.exchange_db)["demo_wallet_state"]
    wallet_id = t.wallet["id"]
    doc = await state.find_one({"_id": wallet_id})
    assert doc is not None
    await state.update_one(
        {"_id": wallet_id},
        {"$set": {"balances.USDT.free": doc["balances"]["USDT"]["free"] + Decimal("0.01")}},
    )
    code, report = await audit(stack, mongo_url)
    assert code == 1
    assert report["ok"] is False
    assert list(report["problems"]) == [wallet_id]
    assert report["problems"][wallet_id][0].startswith("USDT: total")

    code, table = await run_cli(stack, mongo_url, "audit")
    assert code == 1
    assert "Money conservation per asset" in table
    assert wallet_id in table
    await state.update_one(
        {"_id": wallet_id}, {"$set": {"balances.USDT.free": doc["balances"]["USDT"]["free"]}}
    )
    assert (await audit(stack, mongo_url))[0] == 0  # and the module's closing audit stays clean


async def test_wallets_list_shows_a_users_wallets_with_credential_names_never_values(
    http: httpx.AsyncClient, stack: Stack, mongo_url: str
) -> None:
    user = user_id("listed")
    creds = binance_credentials()
    r = await http.post(
        "/api/v1/user-wallets", json=binance_wallet_body(credentials=creds), headers=stack.headers(user)
    )
    assert r.status_code == 201, r.text
    demo = await Trader.open(http, stack, user)
    deleted = await Trader.open(http, stack, user, balances={"USDT": "5"}, custom_name="gone")
    assert (await http.delete(deleted.base, headers=deleted.headers)).status_code == 204

    async def listed() -> list[dict[str, Any]] | None:
        code, out = await run_cli(stack, mongo_url, "wallets", "list", "--user", user, "--json")
        assert code == 0, out
        rows: list[dict[str, Any]] = json.loads(out)
        return rows if len(rows) == 2 else None

    rows = await eventually(listed, what="two live wallets listed")
    by_id = {row["id"]: row for row in rows}
    assert by_id[r.json()["id"]]["credentials_set"] == ["api_key", "api_secret"]
    assert by_id[demo.wallet["id"]]["provider_slug"] == "demo-v1"
    assert deleted.wallet["id"] not in by_id

    code, out = await run_cli(stack, mongo_url, "wallets", "list", "--user", user, "--include-deleted")
    assert code == 0
    assert "(deleted)" in out
    for secret in creds.values():
        assert secret not in out
    assert "gAAAAA" not in out  # no Fernet token either
