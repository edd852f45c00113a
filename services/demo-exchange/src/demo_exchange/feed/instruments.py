"""The symbols the built-in feed can price: price step, starting level and the bundled series replayed."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class FeedInstrument:
    symbol: str
    price_step: Decimal
    start_price: Decimal
    """The level a random walk starts at and the level the replayed series' first open is scaled to."""
    series: str
    """The bundled bar series (``data/msft_daily.csv``) replayed for this symbol."""


FEED_INSTRUMENTS: dict[str, FeedInstrument] = {
    i.symbol: i
    for i in (
        FeedInstrument("BTC/USDT", Decimal("0.01"), Decimal("65000.00"), "msft-daily-2017"),
        FeedInstrument("ETH/USDT", Decimal("0.01"), Decimal("3500.00"), "msft-daily-2008"),
        FeedInstrument("SOL/USDT", Decimal("0.01"), Decimal("150.00"), "msft-daily-2000"),
    )
}
