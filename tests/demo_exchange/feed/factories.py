"""Small builders for the feed tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from demo_exchange.feed.bars import Bar
from demo_exchange.feed.generators import Schedule
from demo_exchange.feed.instruments import FEED_INSTRUMENTS, FeedInstrument

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def schedule(speed: float = 1440.0, tick_interval: float = 1.0) -> Schedule:
    return Schedule(start=T0, tick_interval=timedelta(seconds=tick_interval), speed=speed)


def btc() -> FeedInstrument:
    return FEED_INSTRUMENTS["BTC/USDT"]


def bar(o: str, h: str, low: str, c: str, day: int = 1) -> Bar:
    return Bar(date(2024, 1, day), Decimal(o), Decimal(h), Decimal(low), Decimal(c))
