"""The last quote per symbol, kept in memory by every instance (fed by ``market.ticks.>``)."""

from __future__ import annotations

from contracts.market import Tick
from demo_exchange.domain.matching import Quote


class PriceBook:
    def __init__(self) -> None:
        self._quotes: dict[str, Quote] = {}

    def update(self, tick: Tick) -> bool:
        """Keep the newest quote; an older tick arriving late is ignored. True if it was newer."""
        current = self._quotes.get(tick.symbol)
        if current is not None and current.ts > tick.ts:
            return False
        self._quotes[tick.symbol] = Quote(price=tick.price, ts=tick.ts, source=tick.source)
        return True

    def get(self, symbol: str) -> Quote | None:
        return self._quotes.get(symbol)
