"""CONTRACT.md's paper-trading semantics, rule by rule, to the 8th decimal."""

from __future__ import annotations

from decimal import Decimal

import pytest

from contracts.errors import ErrorCode, ServiceError
from contracts.orders import Liquidity, OrderStatus, OrderType, Side, TimeInForce
from demo_exchange.domain.ledger import Balance
from demo_exchange.domain.orders import IllegalTransition
from tests.demo_exchange.unit.factories import BTC, ENGINE, NOW, SOL, D, later, ledger, order, quote

BUY, SELL = Side.BUY, Side.SELL
MARKET, LIMIT, STOP, STOP_LIMIT = OrderType.MARKET, OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT


def test_market_buy_pays_slipped_price_plus_taker_fee_in_quote() -> None:
    out = ENGINE.place(ledger(USDT="10000"), BTC, order(MARKET, BUY, "0.01"), quote("65000"), NOW)
    # exec = 65000 x 1.0001 = 65006.5; cost = 650.065; fee = 0.650065
    assert out.order.status is OrderStatus.FILLED
    assert out.order.average_price == D("65006.5")
    assert out.order.fee_amount == D("0.650065")
    assert out.ledger.get("USDT") == Balance(free=D("9349.284935"))
    assert out.ledger.get("BTC") == Balance(free=D("0.01"))
    (fill,) = out.fills
    assert (fill.quote_amount, fill.liquidity, fill.quote.price) == (
        D("650.065"),
        Liquidity.TAKER,
        D("65000"),
    )


def test_market_sell_receives_slipped_price_minus_taker_fee() -> None:
    out = ENGINE.place(ledger(USDT="0", BTC="0.01"), BTC, order(MARKET, SELL, "0.01"), quote("65000"), NOW)
    # exec = 65000 x 0.9999 = 64993.5; proceeds = 649.935; fee = 0.649935
    assert out.order.average_price == D("64993.5")
    assert out.ledger.get("USDT").free == D("649.285065")
    assert out.ledger.get("BTC").total == D("0")


@pytest.mark.parametrize(
    ("side", "balances"),
    [(BUY, {"USDT": "650.71"}), (SELL, {"BTC": "0.00999"})],
)
def test_market_order_without_enough_free_balance_is_rejected(side: Side, balances: dict[str, str]) -> None:
    # a buy needs 650.715065 USDT; a sell needs 0.01 BTC
    with pytest.raises(ServiceError) as info:
        ENGINE.place(ledger(**balances), BTC, order(MARKET, side, "0.01"), quote("65000"), NOW)
    assert info.value.code is ErrorCode.INSUFFICIENT_FUNDS


def test_amounts_round_half_even_to_8_decimals() -> None:
    out = ENGINE.place(
        ledger(USDT="10"), SOL, order(MARKET, BUY, "0.001", instrument=SOL), quote("123.45"), NOW
    )
    # exec = 123.462345; cost = 0.123462345 → 0.12346234 (half-even); fee = 0.00012346234 → 0.00012346
    assert out.fills[0].quote_amount == D("0.12346234")
    assert out.order.fee_amount == D("0.00012346")
    assert out.ledger.get("USDT").free == D("10") - D("0.12346234") - D("0.00012346")


def test_marketable_limit_buy_fills_at_once_at_the_market_price_as_taker_without_slippage() -> None:
    out = ENGINE.place(
        ledger(USDT="1000"), BTC, order(LIMIT, BUY, "0.01", price="65100"), quote("65000"), NOW
    )
    assert out.order.status is OrderStatus.FILLED
    assert out.fills[0].price == D("65000")
    assert out.fills[0].liquidity is Liquidity.TAKER
    assert out.ledger.get("USDT").free == D("1000") - D("650") - D("0.65")


def test_limit_buy_rests_locking_cost_plus_fee_then_fills_at_its_limit_as_maker() -> None:
    placed = ENGINE.place(
        ledger(USDT="1000"), BTC, order(LIMIT, BUY, "0.01", price="64000"), quote("65000"), NOW
    )
    assert placed.order.status is OrderStatus.OPEN
    assert (placed.order.locked_asset, placed.order.locked_amount) == ("USDT", D("640.64"))
    assert placed.ledger.get("USDT") == Balance(free=D("359.36"), locked=D("640.64"))
    assert ENGINE.on_tick(placed.ledger, BTC, placed.order, quote("64000.01"), later()) is None
    filled = ENGINE.on_tick(placed.ledger, BTC, placed.order, quote("63900"), later())
    assert filled is not None
    assert filled.order.status is OrderStatus.FILLED
    assert filled.fills[0].price == D("64000")  # its limit, not the tick's price
    assert filled.fills[0].liquidity is Liquidity.MAKER
    assert filled.fills[0].quote.price == D("63900")  # the quote that caused it is recorded
    assert filled.ledger.get("USDT") == Balance(free=D("359.36"))
    assert filled.ledger.get("BTC") == Balance(free=D("0.01"))


def test_limit_sell_rests_locking_base_and_fills_when_price_reaches_it() -> None:
    placed = ENGINE.place(
        ledger(BTC="0.02"), BTC, order(LIMIT, SELL, "0.01", price="66000"), quote("65000"), NOW
    )
    assert placed.ledger.get("BTC") == Balance(free=D("0.01"), locked=D("0.01"))
    assert ENGINE.on_tick(placed.ledger, BTC, placed.order, quote("65999.99"), later()) is None
    filled = ENGINE.on_tick(placed.ledger, BTC, placed.order, quote("66000"), later())
    assert filled is not None
    assert filled.ledger.get("BTC") == Balance(free=D("0.01"))
    assert filled.ledger.get("USDT").free == D("660") - D("0.66")


@pytest.mark.parametrize("tif", [TimeInForce.IOC, TimeInForce.FOK])
def test_unmarketable_ioc_or_fok_limit_expires_without_locking(tif: TimeInForce) -> None:
    out = ENGINE.place(
        ledger(USDT="1000"), BTC, order(LIMIT, BUY, "0.01", price="64000", tif=tif), quote("65000"), NOW
    )
    assert out.order.status is OrderStatus.EXPIRED
    assert out.order.closed_at == NOW
    assert out.ledger.get("USDT") == Balance(free=D("1000"))
    assert out.fills == ()


@pytest.mark.parametrize("tif", [TimeInForce.IOC, TimeInForce.FOK])
def test_marketable_ioc_or_fok_limit_fills_completely(tif: TimeInForce) -> None:
    out = ENGINE.place(
        ledger(BTC="1"), BTC, order(LIMIT, SELL, "0.5", price="64000", tif=tif), quote("65000"), NOW
    )
    assert out.order.status is OrderStatus.FILLED
    assert out.order.filled_quantity == D("0.5")


def test_limit_with_no_known_price_rests() -> None:
    out = ENGINE.place(ledger(USDT="1000"), BTC, order(LIMIT, BUY, "0.01", price="64000"), None, NOW)
    assert out.order.status is OrderStatus.OPEN


def test_stop_buy_locks_for_fee_and_slippage_and_triggers_as_market_on_first_tick_at_or_above() -> None:
    placed = ENGINE.place(
        ledger(USDT="1000"), BTC, order(STOP, BUY, "0.01", stop="66000"), quote("65000"), NOW
    )
    # lock = 0.01 x 66000 x (1 + 0.001 + 0.0001) = 660.726
    assert placed.ledger.get("USDT") == Balance(free=D("339.274"), locked=D("660.726"))
    assert ENGINE.on_tick(placed.ledger, BTC, placed.order, quote("65999.99"), later()) is None
    out = ENGINE.on_tick(placed.ledger, BTC, placed.order, quote("66000"), later())
    assert out is not None
    # exec = 66006.6; cost = 660.066; fee = 0.660066; total 660.726066 = the 660.726 lock + 0.000066 from free
    assert out.order.status is OrderStatus.FILLED
    assert out.order.triggered_at == later()
    assert out.fills[0].price == D("66006.6")
    assert out.ledger.get("USDT") == Balance(free=D("1000") - D("660.726066"))
    assert out.ledger.get("BTC") == Balance(free=D("0.01"))


def test_stop_buy_lock_follows_the_contract_formula_so_an_exact_trigger_needs_a_little_free_balance() -> None:
    """CONTRACT.md locks q·S·(1+f+s), which omits the f·s term of q·S·(1+s)·(1+f): filling exactly
    at the stop costs 0.000066 USDT more than the lock here, taken from free balance, or it is canceled."""
    placed = ENGINE.place(
        ledger(USDT="660.726"), BTC, order(STOP, BUY, "0.01", stop="66000"), quote("65000"), NOW
    )
    out = ENGINE.on_tick(placed.ledger, BTC, placed.order, quote("66000"), later())
    assert out is not None
    assert out.order.status is OrderStatus.CANCELED
    assert out.order.reason == "insufficient_funds"
    topped = ENGINE.place(
        ledger(USDT="660.726066"), BTC, order(STOP, BUY, "0.01", stop="66000"), quote("65000"), NOW
    )
    filled = ENGINE.on_tick(topped.ledger, BTC, topped.order, quote("66000"), later())
    assert filled is not None
    assert filled.order.status is OrderStatus.FILLED
    assert filled.ledger.get("USDT").total == 0


def test_stop_buy_gap_beyond_lock_and_free_is_canceled_with_insufficient_funds() -> None:
    start = ledger(USDT="660.726")
    placed = ENGINE.place(start, BTC, order(STOP, BUY, "0.01", stop="66000"), quote("65000"), NOW)
    out = ENGINE.on_tick(placed.ledger, BTC, placed.order, quote("70000"), later())
    assert out is not None
    assert out.order.status is OrderStatus.CANCELED
    assert out.order.reason == "insufficient_funds"
    assert out.fills == ()
    assert out.ledger.get("USDT") == Balance(free=D("660.726"))


def test_stop_sell_triggers_on_first_tick_at_or_below_and_sells_at_slipped_price() -> None:
    placed = ENGINE.place(
        ledger(BTC="0.01"), BTC, order(STOP, SELL, "0.01", stop="64000"), quote("65000"), NOW
    )
    assert placed.ledger.get("BTC") == Balance(locked=D("0.01"))
    out = ENGINE.on_tick(placed.ledger, BTC, placed.order, quote("63000"), later())
    assert out is not None
    # exec = 62993.7; proceeds = 629.937; fee = 0.629937
    assert out.ledger.get("USDT").free == D("629.307063")
    assert out.ledger.get("BTC").total == D("0")


def test_stop_already_crossed_when_placed_triggers_at_once() -> None:
    out = ENGINE.place(ledger(USDT="1000"), BTC, order(STOP, BUY, "0.01", stop="64000"), quote("65000"), NOW)
    assert out.order.status is OrderStatus.FILLED
    assert out.order.triggered_at == NOW
    assert out.fills[0].price == D("65006.5")


def test_stop_limit_buy_marketable_at_trigger_fills_at_the_tick_price_as_taker() -> None:
    placed = ENGINE.place(
        ledger(USDT="1000"),
        BTC,
        order(STOP_LIMIT, BUY, "0.01", stop="66000", price="66100"),
        quote("65000"),
        NOW,
    )
    assert placed.order.locked_amount == D("661.661")
    out = ENGINE.on_tick(placed.ledger, BTC, placed.order, quote("66050"), later())
    assert out is not None
    assert out.fills[0].price == D("66050")
    assert out.fills[0].liquidity is Liquidity.TAKER
    assert out.ledger.get("USDT") == Balance(free=D("1000") - D("660.5") - D("0.6605"))


def test_stop_limit_buy_not_marketable_at_trigger_rests_as_a_limit_then_fills_as_maker() -> None:
    placed = ENGINE.place(
        ledger(USDT="1000"),
        BTC,
        order(STOP_LIMIT, BUY, "0.01", stop="66000", price="65900"),
        quote("65000"),
        NOW,
    )
    triggered = ENGINE.on_tick(placed.ledger, BTC, placed.order, quote("66000"), later(1))
    assert triggered is not None
    assert triggered.order.status is OrderStatus.OPEN
    assert triggered.order.triggered_at == later(1)
    assert triggered.fills == ()
    assert ENGINE.on_tick(triggered.ledger, BTC, triggered.order, quote("66100"), later(2)) is None
    filled = ENGINE.on_tick(triggered.ledger, BTC, triggered.order, quote("65800"), later(3))
    assert filled is not None
    assert filled.fills[0].price == D("65900")
    assert filled.fills[0].liquidity is Liquidity.MAKER
    assert filled.ledger.get("USDT") == Balance(free=D("1000") - D("659") - D("0.659"))


def test_stop_limit_ioc_not_marketable_at_trigger_expires_and_releases_its_lock() -> None:
    placed = ENGINE.place(
        ledger(USDT="1000"),
        BTC,
        order(STOP_LIMIT, BUY, "0.01", stop="66000", price="65900", tif=TimeInForce.IOC),
        quote("65000"),
        NOW,
    )
    out = ENGINE.on_tick(placed.ledger, BTC, placed.order, quote("66000"), later())
    assert out is not None
    assert out.order.status is OrderStatus.EXPIRED
    assert out.ledger.get("USDT") == Balance(free=D("1000"))


def test_stop_limit_sell_triggers_at_or_below_and_fills_when_marketable() -> None:
    placed = ENGINE.place(
        ledger(BTC="0.01"),
        BTC,
        order(STOP_LIMIT, SELL, "0.01", stop="64000", price="63900"),
        quote("65000"),
        NOW,
    )
    out = ENGINE.on_tick(placed.ledger, BTC, placed.order, quote("63950"), later())
    assert out is not None
    assert out.order.status is OrderStatus.FILLED
    assert out.fills[0].price == D("63950")
    assert out.ledger.get("USDT").free == D("639.5") - D("0.6395")


@pytest.mark.parametrize(
    ("type_", "side", "extra", "locked_asset"),
    [
        (LIMIT, BUY, {"price": "64000"}, "USDT"),
        (LIMIT, SELL, {"price": "66000"}, "BTC"),
        (STOP, BUY, {"stop": "66000"}, "USDT"),
        (STOP, SELL, {"stop": "64000"}, "BTC"),
        (STOP_LIMIT, BUY, {"stop": "66000", "price": "66100"}, "USDT"),
        (STOP_LIMIT, SELL, {"stop": "64000", "price": "63900"}, "BTC"),
    ],
)
def test_cancel_releases_exactly_what_the_order_locks(
    type_: OrderType, side: Side, extra: dict[str, str], locked_asset: str
) -> None:
    start = ledger(USDT="5000", BTC="1")
    placed = ENGINE.place(
        start,
        BTC,
        order(type_, side, "0.01", price=extra.get("price"), stop=extra.get("stop")),
        quote("65000"),
        NOW,
    )
    assert placed.ledger.get(locked_asset).locked == placed.order.locked_amount > 0
    out = ENGINE.cancel(placed.ledger, placed.order, later())
    assert out.order.status is OrderStatus.CANCELED
    assert out.order.locked_amount == 0
    assert out.ledger == start


def test_resting_order_needing_more_than_free_is_rejected() -> None:
    with pytest.raises(ServiceError) as info:
        ENGINE.place(
            ledger(USDT="640.63"), BTC, order(LIMIT, BUY, "0.01", price="64000"), quote("65000"), NOW
        )
    assert info.value.code is ErrorCode.INSUFFICIENT_FUNDS


def test_a_final_order_cannot_be_canceled() -> None:
    filled = ENGINE.place(ledger(USDT="1000"), BTC, order(MARKET, BUY, "0.01"), quote("65000"), NOW)
    with pytest.raises(IllegalTransition):
        ENGINE.cancel(filled.ledger, filled.order, later())


def test_final_orders_are_ignored_by_ticks() -> None:
    filled = ENGINE.place(ledger(USDT="1000"), BTC, order(MARKET, BUY, "0.01"), quote("65000"), NOW)
    assert ENGINE.on_tick(filled.ledger, BTC, filled.order, quote("1"), later()) is None


@pytest.mark.parametrize("maker_taker", [("0.0005", "0.002")])
def test_per_symbol_fee_rates_apply_maker_on_rest_and_taker_on_take(maker_taker: tuple[str, str]) -> None:
    from dataclasses import replace

    maker, taker = (Decimal(x) for x in maker_taker)
    inst = replace(BTC, maker_fee_rate=maker, taker_fee_rate=taker)
    took = ENGINE.place(
        ledger(USDT="1000"), inst, order(LIMIT, BUY, "0.01", price="65100"), quote("65000"), NOW
    )
    assert took.order.fee_amount == D("1.3")  # 650 x 0.002
    rested = ENGINE.place(
        ledger(USDT="1000"), inst, order(LIMIT, BUY, "0.01", price="64000"), quote("65000"), NOW
    )
    made = ENGINE.on_tick(rested.ledger, inst, rested.order, quote("63000"), later())
    assert made is not None
    assert made.order.fee_amount == D("0.32")  # 640 x 0.0005


# Every order type × side × time in force, against a quote that makes it marketable or not.
# The expected status right after placement (and, for stops, after the triggering tick).
_LEVELS = {
    # type: (buy kwargs, sell kwargs) — the buy levels sit below 65000, the sell levels above it
    OrderType.LIMIT: ({"price": "64000"}, {"price": "66000"}),
    OrderType.STOP: ({"stop": "66000"}, {"stop": "64000"}),
    OrderType.STOP_LIMIT: ({"stop": "66000", "price": "65900"}, {"stop": "64000", "price": "64100"}),
}


@pytest.mark.parametrize("tif", list(TimeInForce))
@pytest.mark.parametrize("side", [BUY, SELL])
def test_market_orders_fill_whatever_the_time_in_force(side: Side, tif: TimeInForce) -> None:
    out = ENGINE.place(
        ledger(USDT="5000", BTC="1"), BTC, order(MARKET, side, "0.01", tif=tif), quote("65000"), NOW
    )
    assert out.order.status is OrderStatus.FILLED


@pytest.mark.parametrize("tif", list(TimeInForce))
@pytest.mark.parametrize("side", [BUY, SELL])
def test_marketable_limit_fills_at_once_whatever_the_time_in_force(side: Side, tif: TimeInForce) -> None:
    price = "66000" if side is BUY else "64000"  # crosses the 65000 quote
    out = ENGINE.place(
        ledger(USDT="5000", BTC="1"),
        BTC,
        order(LIMIT, side, "0.01", price=price, tif=tif),
        quote("65000"),
        NOW,
    )
    assert out.order.status is OrderStatus.FILLED
    assert out.fills[0].price == D("65000")


@pytest.mark.parametrize(
    ("tif", "status"),
    [
        (TimeInForce.GTC, OrderStatus.OPEN),
        (TimeInForce.IOC, OrderStatus.EXPIRED),
        (TimeInForce.FOK, OrderStatus.EXPIRED),
    ],
)
@pytest.mark.parametrize("side", [BUY, SELL])
def test_unmarketable_limit_rests_only_when_gtc(side: Side, tif: TimeInForce, status: OrderStatus) -> None:
    levels = _LEVELS[LIMIT][0 if side is BUY else 1]
    out = ENGINE.place(
        ledger(USDT="5000", BTC="1"),
        BTC,
        order(LIMIT, side, "0.01", price=levels["price"], tif=tif),
        quote("65000"),
        NOW,
    )
    assert out.order.status is status
    assert (out.order.locked_amount > 0) is (status is OrderStatus.OPEN)


@pytest.mark.parametrize("tif", list(TimeInForce))
@pytest.mark.parametrize("side", [BUY, SELL])
@pytest.mark.parametrize("type_", [STOP, STOP_LIMIT])
def test_untriggered_stops_rest_whatever_the_time_in_force(
    type_: OrderType, side: Side, tif: TimeInForce
) -> None:
    levels = _LEVELS[type_][0 if side is BUY else 1]
    placed = order(type_, side, "0.01", price=levels.get("price"), stop=levels["stop"], tif=tif)
    out = ENGINE.place(ledger(USDT="5000", BTC="1"), BTC, placed, quote("65000"), NOW)
    assert out.order.status is OrderStatus.OPEN
    assert out.order.triggered_at is None


@pytest.mark.parametrize(
    ("tif", "status"),
    [
        (TimeInForce.GTC, OrderStatus.OPEN),
        (TimeInForce.IOC, OrderStatus.EXPIRED),
        (TimeInForce.FOK, OrderStatus.EXPIRED),
    ],
)
@pytest.mark.parametrize("side", [BUY, SELL])
def test_stop_limit_triggered_but_not_marketable_rests_only_when_gtc(
    side: Side, tif: TimeInForce, status: OrderStatus
) -> None:
    levels = _LEVELS[STOP_LIMIT][0 if side is BUY else 1]
    start = ledger(USDT="5000", BTC="1")
    placed = ENGINE.place(
        start,
        BTC,
        order(STOP_LIMIT, side, "0.01", price=levels["price"], stop=levels["stop"], tif=tif),
        quote("65000"),
        NOW,
    )
    trigger = levels["stop"]  # at the stop: triggered, but the limit is not reached yet
    out = ENGINE.on_tick(placed.ledger, BTC, placed.order, quote(trigger), later())
    assert out is not None
    assert out.order.status is status
    assert out.order.triggered_at == later()
    if status is OrderStatus.EXPIRED:
        assert out.ledger == start


@pytest.mark.parametrize("tif", list(TimeInForce))
@pytest.mark.parametrize("side", [BUY, SELL])
def test_triggered_stop_executes_as_market_whatever_the_time_in_force(side: Side, tif: TimeInForce) -> None:
    levels = _LEVELS[STOP][0 if side is BUY else 1]
    placed = ENGINE.place(
        ledger(USDT="5000", BTC="1"),
        BTC,
        order(STOP, side, "0.01", stop=levels["stop"], tif=tif),
        quote("65000"),
        NOW,
    )
    out = ENGINE.on_tick(placed.ledger, BTC, placed.order, quote(levels["stop"]), later())
    assert out is not None
    assert out.order.status is OrderStatus.FILLED
    slip = D("1.0001") if side is BUY else D("0.9999")
    assert out.fills[0].price == D(levels["stop"]) * slip
