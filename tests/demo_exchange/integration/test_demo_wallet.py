"""DemoWallet: every BaseWallet method over real NATS against a real demo-exchange (Mongo wire server)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from contracts.market import Tick
from contracts.wallets import UserWallet
from demo_exchange.app import ExchangeRuntime
from servicekit.bus import ServiceBus
from tests.demo_exchange.integration.conftest import demo_provider, demo_wallet, open_account
from wallets.demo import DemoWallet
from wallets.errors import (
    BadSymbol,
    DuplicateOrderId,
    ExchangeError,
    InsufficientFunds,
    InvalidOrder,
    OrderNotFound,
)
from wallets.factory import create_wallet

D = Decimal


async def quote(exchange: ExchangeRuntime, symbol: str, price: str) -> None:
    await exchange.service.on_tick(Tick(symbol=symbol, price=D(price), ts=datetime.now(UTC), source="test"))


async def connected(
    exchange: ExchangeRuntime, bus: ServiceBus, **balances: str
) -> tuple[DemoWallet, UserWallet]:
    wallet = demo_wallet(balances or None)
    await open_account(exchange, wallet)
    demo = create_wallet(demo_provider(), {}, wallet_id=wallet.id, user_id=wallet.user_id, bus=bus)
    assert isinstance(demo, DemoWallet)
    return demo, wallet


async def test_factory_builds_a_demo_wallet_that_reports_its_balance(
    exchange: ExchangeRuntime, bus: ServiceBus
) -> None:
    demo, _ = await connected(exchange, bus, USDT="1234.5")
    balance = await demo.get_balance()
    assert balance.balances["USDT"].free == D("1234.5")
    assert await demo.get_free_balance("BTC") == 0


async def test_test_connection_succeeds_with_a_measured_latency(
    exchange: ExchangeRuntime, bus: ServiceBus
) -> None:
    demo, _ = await connected(exchange, bus)
    result = await demo.test_connection()
    assert result.success is True
    assert result.latency_ms > 0


async def test_markets_and_ticker(exchange: ExchangeRuntime, bus: ServiceBus) -> None:
    demo, _ = await connected(exchange, bus)
    markets = await demo.load_markets()
    assert {"BTC/USDT", "ETH/USDT", "SOL/USDT"} <= set(markets)
    await quote(exchange, "ETH/USDT", "3456.78")
    ticker = await demo.get_ticker("ETH/USDT")
    assert (ticker.price, ticker.source) == (D("3456.78"), "test")
    with pytest.raises(BadSymbol):
        await demo.get_ticker("DOGE/USDT")


async def test_market_order_fills_and_appears_in_closed_orders_and_trades(
    exchange: ExchangeRuntime, bus: ServiceBus
) -> None:
    demo, _ = await connected(exchange, bus)
    await quote(exchange, "BTC/USDT", "65000.00")
    order = await demo.create_market_order("BTC/USDT", "buy", D("0.01"))
    assert order.status == "filled"
    assert order.client_order_id  # DemoWallet always sends a retry-safe id
    assert [o.id for o in await demo.get_closed_orders()] == [order.id]
    assert await demo.get_open_orders() == []
    (trade,) = await demo.get_trades("BTC/USDT")
    assert (trade.order_id, trade.price) == (order.id, D("65006.5"))


async def test_limit_order_rests_is_found_by_client_id_and_cancels(
    exchange: ExchangeRuntime, bus: ServiceBus
) -> None:
    demo, _ = await connected(exchange, bus)
    await quote(exchange, "BTC/USDT", "65000.00")
    order = await demo.create_order(
        "BTC/USDT", "limit", "buy", D("0.01"), D("60000.00"), client_order_id="dw-1"
    )
    assert order.status == "open"
    assert (await demo.get_order("dw-1")).id == order.id
    assert [o.id for o in await demo.get_open_orders("BTC/USDT")] == [order.id]
    canceled = await demo.cancel_order(order.id)
    assert canceled.status == "canceled"
    with pytest.raises(InvalidOrder):  # order_not_open
        await demo.cancel_order(order.id)


async def test_limit_fills_when_a_tick_reaches_it(exchange: ExchangeRuntime, bus: ServiceBus) -> None:
    demo, _ = await connected(exchange, bus)
    await quote(exchange, "BTC/USDT", "65000.00")
    order = await demo.create_limit_order("BTC/USDT", "buy", D("0.01"), D("64000.00"))
    await quote(exchange, "BTC/USDT", "63999.99")
    assert (await demo.get_order(order.id)).status == "filled"


async def test_stop_order_triggers_and_stop_limit_rests_after_trigger(
    exchange: ExchangeRuntime, bus: ServiceBus
) -> None:
    demo, _ = await connected(exchange, bus, USDT="10000")
    await quote(exchange, "BTC/USDT", "65000.00")
    stop = await demo.create_order("BTC/USDT", "stop", "buy", D("0.01"), stop_price=D("66000.00"))
    stop_limit = await demo.create_order(
        "BTC/USDT", "stop_limit", "buy", D("0.01"), D("65500.00"), stop_price=D("66000.00")
    )
    await quote(exchange, "BTC/USDT", "66100.00")
    assert (await demo.get_order(stop.id)).status == "filled"
    waiting = await demo.get_order(stop_limit.id)
    assert (waiting.status, waiting.triggered_at is not None) == ("open", True)
    await quote(exchange, "BTC/USDT", "65400.00")
    assert (await demo.get_order(stop_limit.id)).status == "filled"


async def test_refusals_raise_the_matching_wallet_errors(exchange: ExchangeRuntime, bus: ServiceBus) -> None:
    demo, _ = await connected(exchange, bus, USDT="100")
    await quote(exchange, "BTC/USDT", "65000.00")
    with pytest.raises(InsufficientFunds):
        await demo.create_market_order("BTC/USDT", "buy", D("0.01"))
    with pytest.raises(InvalidOrder):
        await demo.create_limit_order("BTC/USDT", "buy", D("0.000015"), D("100.00"))
    with pytest.raises(BadSymbol):
        await demo.create_market_order("XYZ/USDT", "buy", D("1"))
    with pytest.raises(OrderNotFound):
        await demo.get_order("missing")
    await demo.create_order("BTC/USDT", "limit", "buy", D("0.0001"), D("60000.00"), client_order_id="once")
    with pytest.raises(DuplicateOrderId):
        await demo.create_order(
            "BTC/USDT", "limit", "buy", D("0.0002"), D("60000.00"), client_order_id="once"
        )


async def test_deposit_withdraw_and_reset(exchange: ExchangeRuntime, bus: ServiceBus) -> None:
    demo, _ = await connected(exchange, bus, USDT="100")
    assert (await demo.deposit("SOL", D("3"))).balances["SOL"].total == D(3)
    assert (await demo.withdraw("USDT", D("40"))).balances["USDT"].free == D(60)
    with pytest.raises(InsufficientFunds):
        await demo.withdraw("USDT", D("61"))
    reset = await demo.reset({"ETH": D("2")})
    assert {a: b.total for a, b in reset.balances.items()} == {"ETH": D(2)}


async def test_a_wallet_of_someone_else_is_not_found(exchange: ExchangeRuntime, bus: ServiceBus) -> None:
    _, wallet = await connected(exchange, bus)
    impostor = DemoWallet(demo_provider(), wallet_id=wallet.id, user_id="someone-else", bus=bus)
    with pytest.raises(ExchangeError) as info:
        await impostor.get_balance()
    assert info.value.code.value == "wallet_not_found"


async def test_account_sync_is_idempotent_and_ordered(exchange: ExchangeRuntime, bus: ServiceBus) -> None:
    wallet = demo_wallet({"USDT": "50"})
    await open_account(exchange, wallet, sequence=1)
    limited = wallet.model_copy(
        update={"risk_limits": wallet.risk_limits.model_copy(update={"max_open_orders": 1})}
    )
    await open_account(exchange, limited, sequence=2)
    await open_account(exchange, wallet, sequence=1)  # a late, older delivery changes nothing
    await open_account(exchange, limited, sequence=2)  # a replay changes nothing
    account = await exchange.store.load(wallet.id)
    assert account is not None
    assert (account.registry_sequence, account.risk_limits.max_open_orders) == (2, 1)
    assert account.ledger.get("USDT").free == D(50)
