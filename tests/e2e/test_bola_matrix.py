"""Broken object-level authorisation matrix, generated from the gateway's own OpenAPI document: for every
route that takes an object id, user B using user A's ids gets 404 — so a new route cannot be forgotten."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from nats.aio.client import Client

from tests.support.factories import user_id
from tests.support.stack import Stack
from tests.support.trading import Trader, set_price

pytestmark = pytest.mark.slow

PUBLIC_PARAMS = {"id_or_slug", "pair"}  # the provider catalog and market data belong to nobody
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("put", "/api/v1/user-wallets/{wallet_id}"): {"custom_name": "taken over"},
    ("post", "/api/v1/user-wallets/{wallet_id}/orders"): {
        "symbol": "BTC/USDT",
        "side": "buy",
        "type": "market",
        "quantity": "0.001",
    },
    ("post", "/api/v1/user-wallets/{wallet_id}/reset"): {"balances": {"USDT": "1"}},
    ("post", "/api/v1/user-wallets/{wallet_id}/deposits"): {"asset": "USDT", "amount": "1"},
    ("post", "/api/v1/user-wallets/{wallet_id}/withdrawals"): {"asset": "USDT", "amount": "1"},
}


async def test_every_route_with_an_object_id_is_404_for_another_user(
    http: httpx.AsyncClient, stack: Stack, nc: Client
) -> None:
    owner = await Trader.open(http, stack, user_id("owner"))
    await set_price(http, stack, nc, "BTC/USDT", "65000.00")
    order = (
        await owner.order(symbol="BTC/USDT", side="buy", type="limit", quantity="0.001", price="50000.00")
    ).json()
    ids = {"wallet_id": owner.wallet["id"], "order_id": order["id"]}
    intruder = stack.headers(user_id("intruder"))
    spec = (await http.get("/openapi.json")).json()

    covered: list[str] = []
    for path, operations in spec["paths"].items():
        params = set(re.findall(r"{(\w+)}", path))
        if not params or params <= PUBLIC_PARAMS:
            continue
        unknown = params - set(ids)
        assert not unknown, f"{path}: add {unknown} to the BOLA matrix"
        for method, operation in operations.items():
            body = BODIES.get((method, path))
            if "requestBody" in operation and operation["requestBody"].get("required"):
                assert body is not None, f"{method.upper()} {path}: add a valid body to the BOLA matrix"
            r = await http.request(method, path.format(**ids), json=body, headers=intruder)
            assert r.status_code == 404, f"{method.upper()} {path} answered {r.status_code}: {r.text}"
            assert r.json()["code"] == "wallet_not_found", f"{method.upper()} {path}: {r.text}"
            covered.append(f"{method.upper()} {path}")
    r = await http.get("/api/v1/events", params={"wallet_id": ids["wallet_id"]}, headers=intruder)
    assert r.status_code == 404
    covered.append("GET /api/v1/events?wallet_id=")

    assert len(covered) >= 15, covered
    # Nothing of the owner's changed.
    assert (await owner.get(f"/orders/{order['id']}")).json()["status"] == "open"
    wallet = (await http.get(f"/api/v1/user-wallets/{owner.wallet['id']}", headers=owner.headers)).json()
    assert wallet["custom_name"] == owner.wallet["custom_name"]
    balances = await owner.balances()
    assert balances["USDT"]["total"] == 10000
