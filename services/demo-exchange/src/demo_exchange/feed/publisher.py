"""Publishing: ``PricePoint``s → ``contracts.market.Tick`` on ``market.ticks.<BASE>-<QUOTE>`` (core NATS),
each at the wall-clock time it carries, until the points run out, a tick budget is spent or ``stop``."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import nats
import structlog
from nats.aio.client import Client
from nats.errors import OutboundBufferLimitError

from contracts.market import Tick
from contracts.subjects import tick_subject
from demo_exchange.feed.bars import bundled_series
from demo_exchange.feed.generators import PricePoint, Schedule, feed_points
from demo_exchange.feed.instruments import FEED_INSTRUMENTS
from demo_exchange.feed.settings import FeedMode, FeedSettings
from servicekit import logs

SERVICE = "market-feed"
log = structlog.get_logger(SERVICE)


def to_tick(point: PricePoint) -> Tick:
    return Tick(symbol=point.symbol, price=point.price, ts=point.ts, source=point.source)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    """Wait ``seconds`` or until ``stop`` is set, whichever comes first (yields to the loop either way)."""
    if seconds <= 0:
        await asyncio.sleep(0)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def publish_points(
    nc: Client, points: Iterable[PricePoint], *, stop: asyncio.Event, max_ticks: int | None = None
) -> int:
    """Publish each point when its ``ts`` comes due (the first point's ``ts`` is taken as now); returns
    how many ticks were published."""
    loop = asyncio.get_running_loop()
    origin: tuple[float, datetime] | None = None
    sent = 0
    for point in points:
        if origin is None:
            origin = (loop.time(), point.ts)
        due = origin[0] + (point.ts - origin[1]).total_seconds()
        await _pause(stop, due - loop.time())
        if stop.is_set():
            break
        try:
            await nc.publish(tick_subject(point.symbol), to_tick(point).model_dump_json().encode())
        except OutboundBufferLimitError:
            # NATS unreachable for long enough to fill the reconnect buffer: a stale tick is worthless.
            log.warning("tick_dropped", symbol=point.symbol, reason="nats_outbound_buffer_full")
            continue
        sent += 1
        if max_ticks is not None and sent >= max_ticks:
            break
    return sent


def schedule_for(settings: FeedSettings, start: datetime) -> Schedule:
    return Schedule(
        start=start,
        tick_interval=timedelta(seconds=settings.market_feed_tick_interval),
        speed=settings.market_feed_speed,
    )


async def run_feed(settings: FeedSettings, stop: asyncio.Event) -> int:
    """Run the feed the settings describe until ``stop`` (or the tick budget); returns ticks published."""
    if settings.market_feed is FeedMode.OFF:
        log.info(
            "market_feed_off", detail="publishing nothing; only external ticks on market.ticks.> move prices"
        )
        await stop.wait()
        return 0
    seed = settings.market_feed_seed if settings.market_feed_seed is not None else secrets.randbits(32)
    schedule = schedule_for(settings, datetime.now(UTC))
    instruments = [FEED_INSTRUMENTS[s] for s in settings.symbols]
    points = feed_points(
        settings.market_feed,
        instruments,
        seed=seed,
        schedule=schedule,
        series=bundled_series() if settings.market_feed is FeedMode.REPLAY else {},
        annual_volatility=settings.market_feed_volatility,
        loop=settings.market_feed_loop,
    )
    nc = await nats.connect(settings.nats_servers, name=SERVICE, max_reconnect_attempts=-1)
    log.info(
        "market_feed_started",
        mode=settings.market_feed.value,
        symbols=settings.symbols,
        seed=seed,
        speed=settings.market_feed_speed,
        tick_interval=settings.market_feed_tick_interval,
        ticks_per_bar=schedule.ticks_per_bar() if settings.market_feed is FeedMode.REPLAY else None,
        nats=settings.nats_servers_for_log,
    )
    try:
        sent = await publish_points(nc, points, stop=stop, max_ticks=settings.market_feed_max_ticks)
    finally:
        await nc.drain()
    log.info("market_feed_stopped", ticks=sent)
    return sent


async def main() -> None:
    settings = FeedSettings()
    logs.configure(settings.log_level, settings.log_format, SERVICE)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await run_feed(settings, stop)
