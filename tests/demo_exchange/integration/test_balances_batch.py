"""``svc.exchange.balances.batch``: many demo accounts' balances in one request, each answered as
``svc.exchange.balances.get`` answers it alone (real NATS, real Mongo wire server)."""

from __future__ import annotations

from nats.aio.client import Client

from contracts.subjects import Exchange
from demo_exchange.app import ExchangeRuntime
from tests.demo_exchange.integration.conftest import demo_wallet, open_account
from tests.support.registry import ask_batch_as_alone


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
    items = await ask_batch_as_alone(
        nc, (Exchange.BALANCES_BATCH, "accounts"), Exchange.BALANCES_GET, "balances", refs
    )
    assert items[0]["balances"]["balances"]["BTC"] == {"free": "0.5", "locked": "0", "total": "0.5"}
    assert [i["error"] is None for i in items] == [True, True, False, False]
