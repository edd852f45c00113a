"""Two demo-exchange processes on one stack: every triggered order is filled exactly once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from nats.aio.client import Client

from tests.e2e import test_demo_trading as single_instance
from tests.support.audit import assert_money_conserved
from tests.support.events import events_for
from tests.support.factories import fernet_key, user_id
from tests.support.stack import Stack, start_stack
from tests.support.trading import Trader, publish_tick, set_price
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow

# The races again, now with two processes in the queue group: the requests spread over both, so the
# cross-process path (version-guarded writes, replays from the other process's pending events) is exercised.
trader = single_instance.trader
test_50_way_funds_race_on_two_instances = (
    single_instance.test_50_concurrent_market_buys_that_can_afford_20_fill_exactly_20
)
test_20_way_client_order_id_race_on_two_instances = (
    single_instance.test_the_same_client_order_id_sent_20_times_at_once_makes_one_order
)
test_200_way_client_order_id_race_on_two_instances = (
    single_instance.test_200_identical_submissions_at_once_make_one_order_and_200_identical_bodies
)


@pytest.fixture(scope="module")
def stack(nats_url: str, mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """This module's own stack, with a second demo-exchange process in the queue group."""
    running = start_stack(
        nats_url=nats_url,
        mongo_url=mongo_url,
        db_prefix=f"two_{uuid.uuid4().hex[:10]}",
        log_dir=Path(tmp_path_factory.mktemp("two-exchanges")),
        keys=fernet_key(),
    )
    running.add_process("demo-exchange-2", "demo_exchange", {})
    yield running
    running.stop()
    assert_money_conserved(running, mongo_url)


async def test_every_triggered_order_is_filled_exactly_once_by_two_instances(
    http: httpx.AsyncClient, stack: Stack, nc: Client
) -> None:
    await set_price(http, stack, nc, "BTC/USDT", "65000.00")
    traders = [await Trader.open(http, stack, user_id(f"w{i}")) for i in range(6)]
    orders: dict[str, list[str]] = {}
    for t in traders:
        placed = []
        for level in ("64000.00", "63000.00", "62000.00"):
            r = await t.order(symbol="BTC/USDT", side="buy", type="limit", quantity="0.01", price=level)
            assert r.status_code == 201, r.text
            placed.append(r.json()["id"])
        orders[t.wallet["id"]] = placed
    assert stack.processes["demo-exchange-2"].alive()

    # A burst of ticks that all trigger every order, spread over both instances by the queue group.
    for _ in range(3):
        for price in ("63500.00", "61000.00", "61000.00", "60500.00"):
            await publish_tick(nc, "BTC/USDT", price)

    for t in traders:
        for order_id in orders[t.wallet["id"]]:
            await t.wait_order(order_id, "filled")
        trades = (await t.get("/trades")).json()["items"]
        assert sorted(tr["order_id"] for tr in trades) == sorted(orders[t.wallet["id"]])
        # 10000 - (640 + 630 + 620) x 1.001: fills at the limits, maker fee 0.1 %
        assert (await t.balances())["USDT"] == {
            "free": Decimal("8108.11"),
            "locked": Decimal(0),
            "total": Decimal("8108.11"),
        }

        async def all_events(t: Trader = t) -> list[tuple[str, bytes, str]] | None:
            found = await events_for(nc, t.wallet["id"])
            fills = [s for s, _, _ in found if s.startswith("evt.trade.executed.")]
            return found if len(fills) >= 3 else None

        events = await eventually(all_events, what="three fills in the stream")
        fills = [i for s, _, i in events if s.startswith("evt.trade.executed.")]
        assert len(fills) == len(set(fills)) == 3


async def test_with_one_instance_stopped_the_other_keeps_answering(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    """Runs last in this module: it stops the second instance."""
    t = await Trader.open(http, stack, user_id())
    second = stack.processes["demo-exchange-2"]
    second.stop()
    for _ in range(5):
        assert (await t.get("/balances")).status_code == 200
