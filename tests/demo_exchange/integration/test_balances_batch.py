"""``svc.exchange.balances.batch``: many demo accounts' balances in one request, each answered as
``svc.exchange.balances.get`` answers it alone (real NATS, real Mongo wire server)."""

from __future__ import annotations

from nats.aio.client import Client

from contracts.subjects import Exchange
from demo_exchange.app import ExchangeRuntime
from tests.demo_exchange.integration.conftest import demo_wallet, open_account
from tests.support.registry import ask


async def test_each_account_of_a_batch_gets_its_balances_or_the_refusal_it_would_get_alone(
    exchange: ExchangeRuntime, nc: Client
) -> None:
    rich = demo_wallet({"USDT": "10000", "BTC": "0.5"})
    poor = demo_wallet({"USDT": "1"})
    await open_account(exchange, rich)
    await open_account(exchange, poor)
    never_opened = demo_wallet()
    refs = [
        (rich.id, rich.user_id),
        (poor.id, poor.user_id),
        (never_opened.id, never_opened.user_id),
        (rich.id, poor.user_id),  # someone else's account: as good as missing
    ]
    batch = await ask(
        nc, Exchange.BALANCES_BATCH, {"accounts": [{"wallet_id": w, "user_id": u} for w, u in refs]}
    )
    assert batch.ok, batch.error
    items = batch.data["items"]
    assert [i["wallet_id"] for i in items] == [w for w, _ in refs]
    for (wallet_id, user), item in zip(refs, items, strict=True):
        alone = await ask(nc, Exchange.BALANCES_GET, {"wallet_id": wallet_id, "user_id": user})
        if alone.ok:
            assert item["error"] is None
            assert item["balances"] == alone.data
        else:
            assert item["balances"] is None
            assert alone.error is not None
            assert item["error"]["code"] == alone.error.code == "wallet_not_found"
    assert items[0]["balances"]["balances"]["BTC"] == {"free": "0.5", "locked": "0", "total": "0.5"}
    assert [i["error"] is None for i in items] == [True, True, False, False]
