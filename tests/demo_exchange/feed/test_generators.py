"""Pure generation: determinism by seed, quantisation, positivity, replay labels, speed (no I/O, no sleep)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from itertools import islice, pairwise

import pytest

from demo_exchange.feed.bars import bundled_series
from demo_exchange.feed.generators import (
    SOURCE_RANDOM,
    SOURCE_SYNTHETIC,
    PricePoint,
    bar_path,
    feed_points,
    quantize_price,
    random_ticks,
    random_walk,
    replay_source,
    replay_ticks,
    scale_series,
    seeded_rng,
    step_sigma,
)
from demo_exchange.feed.instruments import FEED_INSTRUMENTS
from tests.demo_exchange.feed.factories import T0, bar, btc, schedule

STEP = Decimal("0.01")


def take[T](n: int, items: Iterable[T]) -> list[T]:
    return list(islice(items, n))


def is_on_step(price: Decimal, step: Decimal = STEP) -> bool:
    return price % step == 0 and price.as_tuple().exponent == step.as_tuple().exponent


# --- quantisation -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "step", "expected"),
    [
        ("65000.004", "0.01", "65000.00"),
        ("65000.005", "0.01", "65000.00"),  # half-even: 0 is even
        ("65000.015", "0.01", "65000.02"),
        ("65000.0151", "0.01", "65000.02"),
        ("12.37", "0.05", "12.35"),
        ("0.004", "0.01", "0.01"),  # never below one step
        ("0", "0.01", "0.01"),
        ("7", "0.01", "7.00"),
    ],
)
def test_quantize_price_rounds_half_even_to_the_step_and_never_below_one_step(
    raw: str, step: str, expected: str
) -> None:
    assert str(quantize_price(Decimal(raw), Decimal(step))) == expected


# --- random walk --------------------------------------------------------------------------------------


def test_random_walk_with_the_same_seed_repeats_and_another_seed_differs() -> None:
    first = take(500, random_walk(7, Decimal("65000"), Decimal("0.01"), STEP))
    again = take(500, random_walk(7, Decimal("65000"), Decimal("0.01"), STEP))
    other = take(500, random_walk(8, Decimal("65000"), Decimal("0.01"), STEP))
    assert first == again
    assert first != other
    assert first[0] == other[0] == Decimal("65000.00")


@pytest.mark.parametrize("sigma", ["0.001", "0.05", "1.5"])
def test_random_walk_prices_are_positive_multiples_of_the_step(sigma: str) -> None:
    prices = take(2000, random_walk(3, Decimal("150"), Decimal(sigma), STEP))
    assert all(isinstance(p, Decimal) for p in prices)
    assert all(p >= STEP for p in prices)
    assert all(is_on_step(p) for p in prices)


def test_random_walk_with_huge_volatility_collapses_to_one_step_not_to_zero() -> None:
    prices = take(3000, random_walk(1, Decimal("1"), Decimal("3"), STEP))
    assert min(prices) == STEP


def test_random_walk_moves_by_roughly_its_step_volatility() -> None:
    prices = take(4001, random_walk(11, Decimal("65000"), Decimal("0.002"), STEP))
    rel = [abs(b / a - 1) for a, b in pairwise(prices)]
    mean_abs = sum(rel, Decimal(0)) / len(rel)
    # E|z| * sigma = sigma * sqrt(2/pi) ~ 0.0016 for sigma = 0.002
    assert Decimal("0.0013") < mean_abs < Decimal("0.0019")


def test_random_ticks_are_labelled_random_and_one_tick_interval_apart() -> None:
    points = take(
        5, random_ticks(btc(), seed=1, annual_volatility=Decimal("0.8"), schedule=schedule(tick_interval=0.5))
    )
    assert {p.source for p in points} == {SOURCE_RANDOM}
    assert {p.symbol for p in points} == {"BTC/USDT"}
    assert [p.ts for p in points] == [T0 + timedelta(seconds=0.5 * k) for k in range(5)]
    assert points[0].price == btc().start_price


def test_random_step_volatility_grows_with_the_square_root_of_speed() -> None:
    slow = step_sigma(Decimal("0.8"), schedule(speed=1000).simulated_seconds_per_tick)
    fast = step_sigma(Decimal("0.8"), schedule(speed=4000).simulated_seconds_per_tick)
    assert fast / slow == pytest.approx(2)


# --- replay -------------------------------------------------------------------------------------------


def replay_btc(seed: int = 5, speed: float = 1440.0, *, loop: bool = False) -> list[PricePoint]:
    return list(
        replay_ticks(btc(), bundled_series()[btc().series], seed=seed, schedule=schedule(speed), loop=loop)
    )


def test_replay_with_the_same_seed_repeats_and_another_seed_changes_only_synthetic_ticks() -> None:
    first, again, other = replay_btc(5), replay_btc(5), replay_btc(6)
    assert first == again
    assert first != other
    bar_points = [(p.ts, p.price, p.source) for p in first if p.source != SOURCE_SYNTHETIC]
    other_bar_prices = [p.price for p in other if p.source != SOURCE_SYNTHETIC]
    # anchors may sit at other positions, but the bar points are the same prices in the same order
    assert [price for _, price, _ in bar_points] == other_bar_prices


def test_replay_labels_the_four_bar_points_replay_and_every_other_tick_synthetic() -> None:
    n = schedule().ticks_per_bar()
    points = replay_btc()
    label = replay_source(btc().series)
    assert label == "replay:msft-daily-2017:scaled"
    assert {p.source for p in points} == {label, SOURCE_SYNTHETIC}
    for i in range(0, len(points), n):
        one_bar = points[i : i + n]
        assert [p.source for p in one_bar].count(label) == 4
        assert one_bar[0].source == one_bar[-1].source == label


def test_replayed_series_passes_through_the_bundled_bar_points_in_order() -> None:
    bars = bundled_series()[btc().series]
    scaled = scale_series(bars, btc().start_price, btc().price_step)
    points = replay_btc()
    n = schedule().ticks_per_bar()
    assert len(points) == n * len(bars)
    closes = [p.price for p in points[n - 1 :: n]]
    assert closes == [b.close for b in scaled]
    opens = [p.price for p in points[::n]]
    assert opens == [b.open for b in scaled]
    expected_anchor_prices = [
        price
        for b in scaled
        for price in (
            (b.open, b.low, b.high, b.close) if b.close >= b.open else (b.open, b.high, b.low, b.close)
        )
    ]
    assert [p.price for p in points if p.source != SOURCE_SYNTHETIC] == expected_anchor_prices


def test_replay_scales_the_series_to_the_symbol_level_and_keeps_its_returns() -> None:
    bars = bundled_series()[btc().series]
    scaled = scale_series(bars, btc().start_price, btc().price_step)
    assert scaled[0].open == Decimal("65000.00")
    original_return = bars[-1].close / bars[0].open
    scaled_return = scaled[-1].close / scaled[0].open
    assert abs(scaled_return - original_return) < Decimal("0.000001")


def test_synthetic_ticks_stay_inside_their_bar_and_on_the_price_step() -> None:
    bars = scale_series(bundled_series()[btc().series], btc().start_price, btc().price_step)
    points = replay_btc(speed=360.0)  # 240 ticks a bar: long bridges
    n = schedule(360.0).ticks_per_bar()
    for k, b in enumerate(bars):
        for p in points[k * n : (k + 1) * n]:
            assert b.low <= p.price <= b.high
            assert is_on_step(p.price)


def test_a_flat_bar_is_replayed_flat() -> None:
    path = list(bar_path(bar("10.00", "10.00", "10.00", "10.00"), 20, seeded_rng(1, "x"), STEP))
    assert [price for price, _ in path] == [Decimal("10.00")] * 20
    assert sum(is_bar_point for _, is_bar_point in path) == 4


@pytest.mark.parametrize(
    ("o", "h", "low", "c", "anchors"),
    [
        ("10", "12", "9", "11", ["10", "9", "12", "11"]),  # up bar: open → low → high → close
        ("11", "12", "9", "10", ["11", "12", "9", "10"]),  # down bar: open → high → low → close
    ],
)
def test_bar_path_visits_low_and_high_in_the_plausible_order(
    o: str, h: str, low: str, c: str, anchors: list[str]
) -> None:
    path = list(bar_path(bar(o, h, low, c), 4, seeded_rng(1, "x"), STEP))
    assert path == [(Decimal(a).quantize(STEP), True) for a in anchors]


def test_bar_path_refuses_fewer_than_four_ticks() -> None:
    with pytest.raises(ValueError, match="at least 4"):
        list(bar_path(bar("10", "12", "9", "11"), 3, seeded_rng(1, "x"), STEP))


def test_replay_loops_over_the_series_when_asked() -> None:
    bars = bundled_series()[btc().series]
    n = schedule().ticks_per_bar()
    looped = take(n * len(bars) + 1, replay_ticks(btc(), bars, seed=1, schedule=schedule(), loop=True))
    assert looped[-1].price == looped[0].price == btc().start_price
    assert looped[-1].source == replay_source(btc().series)
    assert looped[-1].ts == T0 + n * len(bars) * timedelta(seconds=1)


# --- speed and timing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("speed", "tick_interval", "ticks_per_bar"),
    [
        (1440.0, 1.0, 60),  # defaults: one daily bar a minute
        (2880.0, 1.0, 30),
        (1440.0, 0.5, 120),
        (86_400.0, 0.25, 4),
        (86_400.0 * 100, 1.0, 4),  # capped: a bar always shows its four points
    ],
)
def test_ticks_per_bar_follow_speed_and_tick_interval(
    speed: float, tick_interval: float, ticks_per_bar: int
) -> None:
    assert schedule(speed, tick_interval).ticks_per_bar() == ticks_per_bar


def test_doubling_the_speed_reaches_every_bar_close_in_half_the_time() -> None:
    normal, double = replay_btc(speed=1440.0), replay_btc(speed=2880.0)
    closes_normal = normal[59::60]
    closes_double = double[29::30]
    assert [p.price for p in closes_normal] == [p.price for p in closes_double]
    for slow, fast in zip(closes_normal, closes_double, strict=True):
        assert slow.ts - T0 == timedelta(seconds=1) + 2 * (fast.ts - T0)
    assert closes_double[9].ts - T0 == timedelta(seconds=299)  # bar 10 closes after 5 minutes at 2880x


def test_feed_points_are_in_time_order_and_tick_every_symbol_each_interval() -> None:
    instruments = list(FEED_INSTRUMENTS.values())
    for mode in ("replay", "random"):
        points = take(
            300, feed_points(mode, instruments, seed=2, schedule=schedule(), series=bundled_series())
        )
        assert [p.ts for p in points] == sorted(p.ts for p in points)
        assert {p.symbol for p in points[:3]} == {"BTC/USDT", "ETH/USDT", "SOL/USDT"}
        assert all(p.ts == T0 + timedelta(seconds=k // 3) for k, p in enumerate(points))
        assert all(p.price > 0 and is_on_step(p.price) for p in points)


def test_feed_points_start_each_symbol_at_its_level() -> None:
    points = take(
        3,
        feed_points(
            "replay", list(FEED_INSTRUMENTS.values()), seed=2, schedule=schedule(), series=bundled_series()
        ),
    )
    assert {p.symbol: p.price for p in points} == {
        "BTC/USDT": Decimal("65000.00"),
        "ETH/USDT": Decimal("3500.00"),
        "SOL/USDT": Decimal("150.00"),
    }
    assert {p.source for p in points} == {
        "replay:msft-daily-2017:scaled",
        "replay:msft-daily-2008:scaled",
        "replay:msft-daily-2000:scaled",
    }


def test_feed_points_refuse_the_off_mode() -> None:
    with pytest.raises(ValueError, match="off"):
        feed_points("off", [btc()], seed=1, schedule=schedule(), series={})
