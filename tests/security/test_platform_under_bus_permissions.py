"""The whole platform on a bus with per-service users: every process connects with its own credential,
a full scenario works, the server logs no permission violation, and no log shows a password."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from nats.aio.client import Client

from tests.e2e.test_balance_sync import read_sse
from tests.security.conftest import SecureBus
from tests.support.factories import fernet_key, user_id
from tests.support.stack import Stack, start_stack
from tests.support.trading import Trader, set_price
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow
VIOLATION = re.compile(r"permissions violation|authorization violation", re.IGNORECASE)


@pytest.fixture(scope="module")
def secure_stack(
    secure_bus: SecureBus, mongo_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    running = start_stack(
        nats_url="nats://unused.invalid:4222",  # every process gets its own URL below
        mongo_url=mongo_url,
        db_prefix=secure_bus.prefix,
        log_dir=Path(tmp_path_factory.mktemp("secure-stack-logs")),
        keys=fernet_key(),
        extra_env={"POST_TRADE_DEBOUNCE": "0.5"},
        process_env={
            name: {"NATS_URL": secure_bus.url_for(name)}
            for name in ("gateway", "wallet-registry", "demo-exchange", "balance-sync")
        },
    )
    yield running
    running.stop()


@pytest.fixture
async def feed(secure_bus: SecureBus) -> AsyncIterator[Client]:
    """The market feed's credential: the only one that may publish ticks."""
    nc = await nats.connect(secure_bus.url_for("market-feed"))
    yield nc
    await nc.drain()


async def test_create_wallet_trade_and_sync_work_with_a_credential_per_service(
    secure_stack: Stack, secure_bus: SecureBus, feed: Client
) -> None:
    async with httpx.AsyncClient(base_url=secure_stack.base_url, timeout=15) as http:
        t = await Trader.open(http, secure_stack, user_id("perm"), balances={"USDT": "1000"})
        test = await http.post(f"{t.base}/test-connection", headers=t.headers)  # registry → exchange
        assert test.status_code == 200, test.text
        assert test.json()["success"], test.text
        await set_price(http, secure_stack, feed, "BTC/USDT", "65000.00")
        r = await t.order(symbol="BTC/USDT", side="buy", type="market", quantity="0.001")
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "filled", r.text

        manual = await http.post(f"{t.base}/sync-balance", headers=t.headers)  # sync → registry, exchange
        assert manual.status_code == 200, manual.text
        assert manual.json()["status"] == "success", manual.text
        assert Decimal(manual.json()["balance_snapshot"]["BTC"]) == Decimal("0.001")

        async def post_trade() -> dict[str, Any] | None:  # evt.trade → balance-sync's work queue
            logs = (await t.get("/sync-logs")).json()["items"]
            return next((e for e in logs if e["trigger"] == "post_trade"), None)

        await eventually(post_trade, timeout=20, what="a post-trade sync")

        async def cached() -> dict[str, Any] | None:  # evt.balance.synced / evt.trade → the registry
            wallet = (await http.get(f"/api/v1/user-wallets/{t.wallet['id']}", headers=t.headers)).json()
            return wallet if wallet["total_trades"] == 1 and wallet["last_synced_at"] else None

        await eventually(cached, timeout=20, what="the registry's caches")
        events = await read_sse(http, t.headers, 3, after=0, wallet_id=t.wallet["id"])  # gateway's SSE
        assert {e["wallet_id"] for _, e in events} == {t.wallet["id"]}

    assert not VIOLATION.findall(secure_bus.server_log()), VIOLATION.findall(secure_bus.server_log())
    logs = secure_stack.logs()
    assert "***@" in logs  # the services did log their (redacted) NATS URL
    for password in secure_bus.passwords.values():
        assert password not in logs
