"""BaseWallet's defaults: unsupported calls say so, helpers delegate, symbols round-trip, connection tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from contracts.errors import ErrorCode
from contracts.orders import OrderType, Side, TimeInForce
from tests.wallets.support import BalanceOnlyWallet, TradingWallet, provider
from wallets import (
    AuthenticationError,
    BadSymbol,
    BaseWallet,
    ExchangeError,
    ExchangeNotAvailable,
    NotSupported,
    RequestTimeout,
    WalletError,
)

Call = Callable[[BaseWallet], Awaitable[Any]]

UNSUPPORTED_BY_DEFAULT: dict[str, Call] = {
    "get_markets": lambda w: w.get_markets(),
    "get_market": lambda w: w.get_market("BTC/USDT"),
    "get_ticker": lambda w: w.get_ticker("BTC/USDT"),
    "create_order": lambda w: w.create_order("BTC/USDT", "market", "buy", Decimal("0.1")),
    "create_market_order": lambda w: w.create_market_order("BTC/USDT", "buy", Decimal("0.1")),
    "create_limit_order": lambda w: w.create_limit_order("BTC/USDT", "buy", Decimal("0.1"), Decimal(60000)),
    "cancel_order": lambda w: w.cancel_order("abc"),
    "get_order": lambda w: w.get_order("abc"),
    "get_orders": lambda w: w.get_orders(),
    "get_open_orders": lambda w: w.get_open_orders(),
    "get_closed_orders": lambda w: w.get_closed_orders(),
    "get_trades": lambda w: w.get_trades("BTC/USDT"),
    "deposit": lambda w: w.deposit("USDT", Decimal(100)),
    "withdraw": lambda w: w.withdraw("USDT", Decimal(100)),
    "reset": lambda w: w.reset({"USDT": Decimal(10000)}),
}


def wallet(**kwargs: Any) -> BalanceOnlyWallet:
    return BalanceOnlyWallet(provider(), {}, **kwargs)


def trading_wallet() -> TradingWallet:
    return TradingWallet(provider())


@pytest.mark.parametrize("call", UNSUPPORTED_BY_DEFAULT.values(), ids=UNSUPPORTED_BY_DEFAULT.keys())
async def test_call_a_wallet_does_not_implement_raises_not_supported(call: Call) -> None:
    with pytest.raises(NotSupported) as raised:
        await call(wallet())
    assert raised.value.code is ErrorCode.NOT_SUPPORTED
    assert "BalanceOnlyWallet (demo-v1) does not support" in raised.value.detail


def test_base_wallet_without_get_balance_cannot_be_instantiated() -> None:
    with pytest.raises(TypeError, match="get_balance"):
        BaseWallet(provider())  # type: ignore[abstract]


def test_has_reports_only_the_capabilities_a_wallet_implements() -> None:
    assert {name for name, ok in wallet().has.items() if ok} == {"get_balance"}
    assert {name for name, ok in trading_wallet().has.items() if ok} == {
        "get_balance",
        "get_markets",
        "create_order",
        "get_orders",
        "get_open_orders",
        "get_closed_orders",
    }


def test_asking_for_an_unknown_capability_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown capability"):
        wallet().supports("teleport")


async def test_open_and_closed_orders_delegate_to_get_orders_with_their_status() -> None:
    w = trading_wallet()
    await w.get_open_orders("BTC/USDT", limit=5)
    await w.get_closed_orders()
    assert w.order_queries == [("BTC/USDT", "open", 5), (None, "closed", None)]


async def test_create_order_hands_a_validated_decimal_request_to_submit_order() -> None:
    w = trading_wallet()
    order = await w.create_order(
        "BTC/USDT",
        "stop_limit",
        "sell",
        "0.015",
        Decimal("64000.50"),
        stop_price="64100",
        client_order_id="c-1",
    )
    [request] = w.submitted
    assert request.type is OrderType.STOP_LIMIT
    assert request.side is Side.SELL
    assert request.quantity == Decimal("0.015")
    assert isinstance(request.quantity, Decimal)
    assert request.price == Decimal("64000.50")
    assert request.stop_price == Decimal(64100)
    assert request.time_in_force is TimeInForce.GTC
    assert order.client_order_id == "c-1"


async def test_market_and_limit_helpers_build_the_matching_order_type() -> None:
    w = trading_wallet()
    await w.create_market_order("ETH/USDT", Side.BUY, Decimal("0.5"))
    await w.create_limit_order("ETH/USDT", "sell", Decimal("0.5"), Decimal(4200), time_in_force="ioc")
    market, limit = w.submitted
    assert (market.type, market.price) == (OrderType.MARKET, None)
    assert (limit.type, limit.price, limit.time_in_force) == (OrderType.LIMIT, Decimal(4200), TimeInForce.IOC)


@pytest.mark.parametrize(
    ("args", "kwargs", "code"),
    [
        (("BTC/USDT", "market", "buy", 0.1), {}, ErrorCode.INVALID_QUANTITY),
        (("BTC/USDT", "market", "buy", Decimal(0)), {}, ErrorCode.INVALID_QUANTITY),
        (("BTC/USDT", "market", "buy", Decimal(-1)), {}, ErrorCode.INVALID_QUANTITY),
        (("BTC/USDT", "market", "buy", Decimal("NaN")), {}, ErrorCode.INVALID_QUANTITY),
        (("BTC/USDT", "limit", "buy", Decimal(1)), {}, ErrorCode.INVALID_PRICE),
        (("BTC/USDT", "market", "buy", Decimal(1), Decimal(5)), {}, ErrorCode.INVALID_PRICE),
        (("BTC/USDT", "limit", "buy", Decimal(1), Decimal(0)), {}, ErrorCode.INVALID_PRICE),
        (("BTC/USDT", "stop", "buy", Decimal(1)), {}, ErrorCode.INVALID_PRICE),
        (
            ("BTC/USDT", "limit", "buy", Decimal(1), Decimal(5)),
            {"stop_price": Decimal(6)},
            ErrorCode.INVALID_PRICE,
        ),
        (("btc-usdt", "market", "buy", Decimal(1)), {}, ErrorCode.UNKNOWN_SYMBOL),
        (("BTC/USDT", "market", "hold", Decimal(1)), {}, ErrorCode.VALIDATION_ERROR),
        (("BTC/USDT", "iceberg", "buy", Decimal(1)), {}, ErrorCode.VALIDATION_ERROR),
        (
            ("BTC/USDT", "market", "buy", Decimal(1)),
            {"client_order_id": "has space"},
            ErrorCode.VALIDATION_ERROR,
        ),
    ],
)
async def test_malformed_order_is_refused_with_its_code_before_reaching_the_venue(
    args: tuple[Any, ...], kwargs: dict[str, Any], code: ErrorCode
) -> None:
    w = trading_wallet()
    with pytest.raises(ExchangeError) as raised:
        await w.create_order(*args, **kwargs)
    assert raised.value.code is code
    assert not w.submitted


@pytest.mark.parametrize("symbol", ["BTC/USDT", "ETH/USDT", "SOL/USDC", "1INCH/USDT"])
def test_format_then_parse_symbol_round_trips(symbol: str) -> None:
    for w in (wallet(), trading_wallet()):
        assert w.parse_symbol(w.format_symbol(symbol)) == symbol


def test_format_symbol_uses_the_venue_separator() -> None:
    assert wallet().format_symbol("BTC/USDT") == "BTC/USDT"
    assert trading_wallet().format_symbol("BTC/USDT") == "BTC-USDT"
    assert BaseWallet.split_symbol("BTC/USDT") == ("BTC", "USDT")


@pytest.mark.parametrize("bad", ["BTCUSDT", "btc/usdt", "BTC/USDT/X", "B/USDT", "", "BTC/"])
def test_malformed_symbol_is_a_bad_symbol(bad: str) -> None:
    with pytest.raises(BadSymbol):
        wallet().format_symbol(bad)


@pytest.mark.parametrize("bad", ["BTCUSDT", "BTC/USDT", "btc-usdt", "BTC-USDT-X"])
def test_market_id_that_is_not_the_venue_form_is_a_bad_symbol(bad: str) -> None:
    with pytest.raises(BadSymbol):
        trading_wallet().parse_symbol(bad)


def test_parsing_without_a_separator_needs_the_venue_to_override_it() -> None:
    class Joined(BalanceOnlyWallet):
        symbol_separator = ""

    w = Joined(provider())
    assert w.format_symbol("BTC/USDT") == "BTCUSDT"
    with pytest.raises(NotSupported):
        w.parse_symbol("BTCUSDT")


async def test_markets_are_loaded_once_and_looked_up_by_symbol() -> None:
    w = trading_wallet()
    assert (await w.get_market("ETH/USDT")).base == "ETH"
    assert (await w.get_market("BTC/USDT")).quote == "USDT"
    assert w.market_loads == 1
    await w.load_markets(reload=True)
    assert w.market_loads == 2


async def test_market_the_venue_does_not_list_is_a_bad_symbol() -> None:
    with pytest.raises(BadSymbol, match="does not list 'DOGE/USDT'"):
        await trading_wallet().get_market("DOGE/USDT")


async def test_free_balance_of_a_held_asset_is_its_free_amount_and_of_another_zero() -> None:
    w = wallet(free={"USDT": "10000.5"})
    assert await w.get_free_balance("USDT") == Decimal("10000.5")
    assert await w.get_free_balance("BTC") == Decimal(0)


async def test_connection_test_of_an_answering_wallet_succeeds_with_latency() -> None:
    result = await wallet().test_connection()
    assert result.success
    assert result.message == "connected"
    assert result.latency_ms >= 0
    assert result.tested_at.tzinfo is not None


async def test_connection_test_refused_by_the_venue_reports_failure_with_the_reason() -> None:
    result = await wallet(fail_with=AuthenticationError("API key rejected")).test_connection()
    assert not result.success
    assert result.message == "API key rejected"


@pytest.mark.parametrize("error", [ExchangeNotAvailable("down"), RequestTimeout("slow")])
async def test_connection_test_hitting_a_transient_error_raises_it_for_retry(error: WalletError) -> None:
    with pytest.raises(type(error)):
        await wallet(fail_with=error).test_connection()


async def test_async_with_closes_the_wallet_on_exit() -> None:
    w = wallet()
    async with w as entered:
        assert entered is w
        assert not w.closed
    assert w.closed


async def test_async_with_closes_the_wallet_when_the_body_raises() -> None:
    w = wallet()
    with pytest.raises(RuntimeError):
        async with w:
            raise RuntimeError("boom")
    assert w.closed
