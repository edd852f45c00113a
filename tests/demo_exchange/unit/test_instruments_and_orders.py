"""Instrument rules (precision, minimums, notional) and the order status-transition table."""

from __future__ import annotations

import pytest

from contracts.errors import ErrorCode, ServiceError
from contracts.orders import OrderStatus, OrderType, Side
from demo_exchange.domain.instruments import DEFAULT_INSTRUMENTS, validate_order
from demo_exchange.domain.orders import FINAL, TRANSITIONS, Direction, IllegalTransition
from tests.demo_exchange.unit.factories import BTC, NOW, D, later, order, request

BUY, SELL = Side.BUY, Side.SELL
MARKET, LIMIT, STOP, STOP_LIMIT = OrderType.MARKET, OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT


@pytest.mark.parametrize(
    ("req", "reference", "code"),
    [
        (request(MARKET, BUY, "0.000015"), "65000", ErrorCode.INVALID_QUANTITY),  # not a step multiple
        (request(MARKET, BUY, "0"), "65000", ErrorCode.INVALID_QUANTITY),
        (request(LIMIT, BUY, "0.01", price="65000.005"), "65000", ErrorCode.INVALID_PRICE),
        (request(LIMIT, BUY, "0.01"), "65000", ErrorCode.INVALID_PRICE),  # limit without price
        (request(MARKET, BUY, "0.01", price="65000"), "65000", ErrorCode.INVALID_PRICE),  # price on market
        (request(STOP, BUY, "0.01"), "65000", ErrorCode.INVALID_PRICE),  # stop without stop_price
        (request(STOP, BUY, "0.01", stop="66000", price="66000"), "65000", ErrorCode.INVALID_PRICE),
        (request(LIMIT, BUY, "0.01", price="65000", stop="1"), "65000", ErrorCode.INVALID_PRICE),
        (request(STOP_LIMIT, BUY, "0.01", stop="66000"), "65000", ErrorCode.INVALID_PRICE),
        (request(LIMIT, BUY, "0.0001", price="40000"), "65000", ErrorCode.BELOW_MIN_NOTIONAL),  # 4 < 5
        (request(MARKET, SELL, "0.00007"), "65000", ErrorCode.BELOW_MIN_NOTIONAL),  # 4.55 < 5
        (request(STOP, SELL, "0.0001", stop="40000"), "65000", ErrorCode.BELOW_MIN_NOTIONAL),
        (request(MARKET, BUY, "0.01"), None, ErrorCode.NO_MARKET_PRICE),
    ],
)
def test_invalid_orders_are_rejected_with_their_code(
    req: object, reference: str | None, code: ErrorCode
) -> None:
    with pytest.raises(ServiceError) as info:
        validate_order(req, BTC, D(reference) if reference else None)  # type: ignore[arg-type]
    assert info.value.code is code


@pytest.mark.parametrize(
    "req",
    [
        request(MARKET, BUY, "0.00008"),  # 5.2 notional at 65000
        request(LIMIT, SELL, "1.23456", price="70000.01"),
        request(STOP, BUY, "0.01", stop="66000"),
        request(STOP_LIMIT, SELL, "0.01", stop="64000", price="63999.99"),
        request(LIMIT, BUY, "0.001", price="5000", symbol="ETH/USDT"),
    ],
)
def test_valid_orders_pass(req: object) -> None:
    symbol = req.symbol  # type: ignore[attr-defined]
    validate_order(req, DEFAULT_INSTRUMENTS[symbol], D("65000"))  # type: ignore[arg-type]


def test_the_three_majors_have_rules_and_default_fees() -> None:
    assert set(DEFAULT_INSTRUMENTS) >= {"BTC/USDT", "ETH/USDT", "SOL/USDT"}
    for inst in DEFAULT_INSTRUMENTS.values():
        assert inst.maker_fee_rate == inst.taker_fee_rate == D("0.001")
        assert inst.info().symbol == inst.symbol


@pytest.mark.parametrize("current", list(OrderStatus))
@pytest.mark.parametrize("wanted", list(OrderStatus))
def test_status_transitions_follow_the_table(current: OrderStatus, wanted: OrderStatus) -> None:
    from dataclasses import replace

    state = replace(order(LIMIT, BUY, "0.01", price="64000"), status=current)
    if wanted in TRANSITIONS[current]:
        moved = state.transition(wanted, later())
        assert moved.status is wanted
        assert (moved.closed_at is not None) == (wanted in FINAL)
    else:
        with pytest.raises(IllegalTransition):
            state.transition(wanted, later())


def test_only_open_can_move_and_every_other_status_is_final() -> None:
    assert frozenset(OrderStatus) - {OrderStatus.OPEN} == FINAL
    assert later() > NOW


@pytest.mark.parametrize(
    ("type_", "side", "extra", "watch"),
    [
        (LIMIT, BUY, {"price": "64000"}, (Direction.AT_OR_BELOW, "64000")),
        (LIMIT, SELL, {"price": "66000"}, (Direction.AT_OR_ABOVE, "66000")),
        (STOP, BUY, {"stop": "66000"}, (Direction.AT_OR_ABOVE, "66000")),
        (STOP, SELL, {"stop": "64000"}, (Direction.AT_OR_BELOW, "64000")),
        (STOP_LIMIT, BUY, {"stop": "66000", "price": "66100"}, (Direction.AT_OR_ABOVE, "66000")),
        (STOP_LIMIT, SELL, {"stop": "64000", "price": "63900"}, (Direction.AT_OR_BELOW, "64000")),
    ],
)
def test_each_resting_order_watches_one_price_condition(
    type_: OrderType, side: Side, extra: dict[str, str], watch: tuple[Direction, str]
) -> None:
    assert order(type_, side, "0.01", price=extra.get("price"), stop=extra.get("stop")).watch() == (
        watch[0],
        D(watch[1]),
    )
