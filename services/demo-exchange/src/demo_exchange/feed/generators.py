"""Pure price generation: iterators of ``PricePoint`` (symbol, price, ts, source), no I/O, no clock.

Prices are ``Decimal`` throughout, computed in an explicit 28-digit context (independent of the caller's
ambient decimal context) and quantised half-even to the instrument's price step, never below one step.
The only floats are the standard-normal draws of ``random.Random.gauss``, each converted exactly to
``Decimal`` before use; for a given seed every sequence is reproducible bit for bit.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal

from demo_exchange.feed.bars import DATASET_BAR_SECONDS, Bar
from demo_exchange.feed.instruments import FeedInstrument

SOURCE_RANDOM = "random"
SOURCE_SYNTHETIC = "synthetic"
SECONDS_PER_YEAR = 365 * 86_400
"""Crypto trades every day: volatility is annualised over calendar seconds."""
MIN_TICKS_PER_BAR = 4
"""A replayed bar always shows its open, high, low and close."""

_CTX = Context(prec=28, rounding=ROUND_HALF_EVEN)
_TWO = Decimal(2)


@dataclass(frozen=True, slots=True)
class PricePoint:
    symbol: str
    price: Decimal
    ts: datetime
    source: str


@dataclass(frozen=True, slots=True)
class Schedule:
    """When ticks happen: tick ``k`` of every symbol is due at ``start + k·tick_interval`` (wall clock);
    ``speed`` is the time compression, simulated market seconds per wall-clock second."""

    start: datetime
    tick_interval: timedelta
    speed: float

    def ts(self, k: int) -> datetime:
        return self.start + k * self.tick_interval

    @property
    def simulated_seconds_per_tick(self) -> float:
        return self.speed * self.tick_interval.total_seconds()

    def ticks_per_bar(self, bar_seconds: int = DATASET_BAR_SECONDS) -> int:
        """How many ticks one bar of ``bar_seconds`` spans at this speed (at least open/high/low/close)."""
        return max(MIN_TICKS_PER_BAR, round(bar_seconds / self.simulated_seconds_per_tick))


def quantize_price(value: Decimal, step: Decimal) -> Decimal:
    """``value`` rounded half-even to a multiple of ``step``; never less than one step."""
    steps = _CTX.divide(value, step).to_integral_value(rounding=ROUND_HALF_EVEN, context=_CTX)
    price = _CTX.multiply(steps, step).quantize(step, context=_CTX)
    return price if price >= step else step


def seeded_rng(seed: int, *stream: str) -> random.Random:
    """An independent, reproducible generator per (seed, stream); a string seed is hashed with SHA-512,
    so it does not depend on ``PYTHONHASHSEED``. Simulation only, not cryptography."""
    return random.Random(":".join([str(seed), *stream]))  # noqa: S311


def _normal(rng: random.Random) -> Decimal:
    return Decimal(rng.gauss(0.0, 1.0))


def step_sigma(annual_volatility: Decimal, seconds: float) -> Decimal:
    """Volatility of one step lasting ``seconds`` of simulated time."""
    return _CTX.multiply(annual_volatility, _CTX.sqrt(_CTX.divide(Decimal(seconds), SECONDS_PER_YEAR)))


def random_walk(seed: int | str, start: Decimal, sigma: Decimal, step: Decimal) -> Iterator[Decimal]:
    """Geometric random walk: ``P[0] = start``, ``P[k+1] = P[k] * exp(sigma * z[k] - sigma**2 / 2)`` with
    ``z[k] ~ N(0, 1)`` seeded by ``seed`` (a martingale: no drift). The state keeps full precision; each
    yielded price is quantised."""
    rng = random.Random(seed)  # noqa: S311 - simulation
    drift = _CTX.minus(_CTX.divide(_CTX.multiply(sigma, sigma), _TWO))
    price = start
    while True:
        yield quantize_price(price, step)
        shock = _CTX.add(drift, _CTX.multiply(sigma, _normal(rng)))
        price = _CTX.multiply(price, _CTX.exp(shock))


def random_ticks(
    instrument: FeedInstrument, *, seed: int, annual_volatility: Decimal, schedule: Schedule
) -> Iterator[PricePoint]:
    sigma = step_sigma(annual_volatility, schedule.simulated_seconds_per_tick)
    walk = random_walk(
        f"{seed}:{instrument.symbol}:random", instrument.start_price, sigma, instrument.price_step
    )
    for k, price in enumerate(walk):
        yield PricePoint(instrument.symbol, price, schedule.ts(k), SOURCE_RANDOM)


def scale_bar(bar: Bar, factor: Decimal, step: Decimal) -> Bar:
    """The bar with every price multiplied by ``factor`` and quantised to ``step``."""
    return Bar(
        bar.day,
        quantize_price(_CTX.multiply(bar.open, factor), step),
        quantize_price(_CTX.multiply(bar.high, factor), step),
        quantize_price(_CTX.multiply(bar.low, factor), step),
        quantize_price(_CTX.multiply(bar.close, factor), step),
    )


def scale_series(bars: Sequence[Bar], level: Decimal, step: Decimal) -> list[Bar]:
    """The series moved to ``level`` (its first open becomes ``level``); returns and shapes are kept."""
    factor = _CTX.divide(level, bars[0].open)
    return [scale_bar(bar, factor, step) for bar in bars]


def _bridge(
    start: Decimal, end: Decimal, steps: int, sigma: Decimal, rng: random.Random
) -> Iterator[Decimal]:
    """The ``steps - 1`` interior points of a Brownian bridge from ``start`` to ``end`` (exact sequential
    sampling: each point drawn given the previous one and the fixed end point)."""
    x = start
    for j in range(steps - 1):
        remaining = Decimal(steps - j)
        pull = _CTX.divide(_CTX.subtract(end, x), remaining)
        spread = _CTX.multiply(sigma, _CTX.sqrt(_CTX.divide(remaining - 1, remaining)))
        x = _CTX.add(x, _CTX.add(pull, _CTX.multiply(spread, _normal(rng))))
        yield x


def bar_path(bar: Bar, n: int, rng: random.Random, step: Decimal) -> Iterator[tuple[Decimal, bool]]:
    """``n`` (≥ 4) prices across one bar, each with ``True`` when it is one of the bar's own points.

    The open comes first and the close last; the low and the high each appear once in between, low first
    on an up bar and high first on a down bar (the usual reading of an OHLC bar), at seeded positions.
    Every other point is a seeded Brownian bridge between those anchors, clamped to [low, high].
    """
    if n < MIN_TICKS_PER_BAR:
        raise ValueError(f"a bar needs at least {MIN_TICKS_PER_BAR} ticks, got {n}")
    first, second = (bar.low, bar.high) if bar.close >= bar.open else (bar.high, bar.low)
    a = rng.randint(1, n - 3)
    b = rng.randint(a + 1, n - 2)
    anchors = [(0, bar.open), (a, first), (b, second), (n - 1, bar.close)]
    sigma = _CTX.divide(_CTX.subtract(bar.high, bar.low), _CTX.multiply(_TWO, _CTX.sqrt(Decimal(n))))
    yield bar.open, True
    for (i0, p0), (i1, p1) in itertools.pairwise(anchors):
        for x in _bridge(p0, p1, i1 - i0, sigma, rng):
            yield quantize_price(min(max(x, bar.low), bar.high), step), False
        yield p1, True


def replay_source(series: str) -> str:
    """The label of a replayed bar point; the bundled series are stock bars scaled to crypto levels."""
    return f"replay:{series}:scaled"


def replay_ticks(
    instrument: FeedInstrument,
    bars: Sequence[Bar],
    *,
    seed: int,
    schedule: Schedule,
    loop: bool = True,
    bar_seconds: int = DATASET_BAR_SECONDS,
) -> Iterator[PricePoint]:
    """The bundled ``bars`` scaled to the instrument's level, each bar spread over
    ``schedule.ticks_per_bar`` ticks (bar points labelled ``replay:…``, the rest ``synthetic``)."""
    if not bars:
        raise ValueError(f"no bars to replay for {instrument.symbol}")
    scaled = scale_series(bars, instrument.start_price, instrument.price_step)
    n = schedule.ticks_per_bar(bar_seconds)
    rng = seeded_rng(seed, instrument.symbol, "replay")
    label = replay_source(instrument.series)
    k = 0
    while True:
        for bar in scaled:
            for price, is_bar_point in bar_path(bar, n, rng, instrument.price_step):
                yield PricePoint(
                    instrument.symbol, price, schedule.ts(k), label if is_bar_point else SOURCE_SYNTHETIC
                )
                k += 1
        if not loop:
            return


def merge_by_time(streams: Iterable[Iterator[PricePoint]]) -> Iterator[PricePoint]:
    """One time-ordered stream from per-symbol streams (ties keep the order of ``streams``)."""
    return heapq.merge(*streams, key=lambda point: point.ts)


def feed_points(
    mode: str,
    instruments: Sequence[FeedInstrument],
    *,
    seed: int,
    schedule: Schedule,
    series: Mapping[str, Sequence[Bar]],
    annual_volatility: Decimal = Decimal("0.8"),
    loop: bool = True,
) -> Iterator[PricePoint]:
    """Every point the feed publishes in ``mode`` (``replay`` or ``random``), in time order."""
    if mode == "replay":
        streams = [
            replay_ticks(i, series[i.series], seed=seed, schedule=schedule, loop=loop) for i in instruments
        ]
    elif mode == "random":
        streams = [
            random_ticks(i, seed=seed, annual_volatility=annual_volatility, schedule=schedule)
            for i in instruments
        ]
    else:
        raise ValueError(f"no points in mode {mode!r}")
    return merge_by_time(streams)
