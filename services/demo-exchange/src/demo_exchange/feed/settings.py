"""Market feed settings (environment variables)."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import Field, field_validator

from demo_exchange.feed.instruments import FEED_INSTRUMENTS
from servicekit.settings import ServiceSettings


class FeedMode(StrEnum):
    REPLAY = "replay"
    RANDOM = "random"
    OFF = "off"


class FeedSettings(ServiceSettings):
    market_feed: FeedMode = Field(
        default=FeedMode.REPLAY,
        description="replay: bundled real bars + labelled synthetic ticks; random: seeded geometric random "
        "walk; off: publish nothing (only external ticks move prices)",
    )
    market_feed_symbols: str = Field(
        default="BTC/USDT,ETH/USDT,SOL/USDT", description="comma-separated symbols to publish"
    )
    market_feed_speed: float = Field(
        default=1440.0,
        gt=0,
        description="time compression: simulated market seconds per wall-clock second "
        "(1440 = one daily bar per minute)",
    )
    market_feed_tick_interval: float = Field(
        default=1.0, gt=0, le=3600, description="wall-clock seconds between two ticks of one symbol"
    )
    market_feed_seed: int | None = Field(
        default=None, description="seed of the synthetic/random ticks; unset = a fresh seed, logged at start"
    )
    market_feed_volatility: Decimal = Field(
        default=Decimal("0.8"),
        gt=0,
        le=10,
        description="random mode: annualised volatility of the walk (0.8 = 80 %/year)",
    )
    market_feed_loop: bool = Field(
        default=True, description="replay mode: start the bundled series over when it ends"
    )
    market_feed_max_ticks: int | None = Field(
        default=None, ge=1, description="stop after publishing this many ticks (demos and tests)"
    )

    @field_validator("market_feed_symbols")
    @classmethod
    def _known_symbols(cls, value: str) -> str:
        symbols = [s.strip() for s in value.split(",") if s.strip()]
        if not symbols:
            raise ValueError("at least one symbol is required")
        unknown = sorted(set(symbols) - FEED_INSTRUMENTS.keys())
        if unknown:
            raise ValueError(f"unknown symbol(s) {unknown}; the feed knows {sorted(FEED_INSTRUMENTS)}")
        return ",".join(dict.fromkeys(symbols))

    @property
    def symbols(self) -> list[str]:
        return self.market_feed_symbols.split(",")
