"""The bundled bar file (shipped as package data) and the feed's settings."""

from __future__ import annotations

from decimal import Decimal
from importlib import resources

import pytest
from pydantic import ValidationError

from demo_exchange.feed.bars import DATA_FILE, BarDataError, bundled_series, parse_bars
from demo_exchange.feed.instruments import FEED_INSTRUMENTS
from demo_exchange.feed.settings import FeedMode, FeedSettings

HEADER = "series,date,open,high,low,close,volume\n"


def test_bundled_data_and_its_provenance_are_package_resources() -> None:
    data = resources.files("demo_exchange.feed").joinpath("data")
    assert data.joinpath(DATA_FILE).is_file()
    source = data.joinpath("SOURCE.md").read_text(encoding="utf-8")
    assert "pmdarima" in source
    assert "MIT" in source


def test_every_feed_symbol_replays_a_bundled_series_of_at_most_a_few_hundred_bars() -> None:
    series = bundled_series()
    for instrument in FEED_INSTRUMENTS.values():
        bars = series[instrument.series]
        assert 100 <= len(bars) <= 300
        assert [b.day for b in bars] == sorted({b.day for b in bars})  # in order, no duplicate day


def test_parse_bars_groups_rows_by_series_in_file_order() -> None:
    text = HEADER + "a,2020-01-02,1,2,0.5,1.5,10\nb,2020-01-02,3,3,3,3,1\na,2020-01-03,1.5,1.6,1.1,1.2,7\n"
    parsed = parse_bars(text)
    assert [b.close for b in parsed["a"]] == [Decimal("1.5"), Decimal("1.2")]
    assert len(parsed["b"]) == 1


@pytest.mark.parametrize(
    "row",
    [
        "a,2020-01-02,1,2,1.2,1.5,1",  # low above open
        "a,2020-01-02,1,1.4,0.5,1.5,1",  # high below close
        "a,2020-01-02,0,0,0,0,1",  # not positive
        "a,2020-01-02,x,2,0.5,1.5,1",  # not a number
        "a,2020-13-02,1,2,0.5,1.5,1",  # not a date
    ],
)
def test_parse_bars_rejects_a_malformed_bar(row: str) -> None:
    with pytest.raises(BarDataError, match="line 2"):
        parse_bars(HEADER + row + "\n")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in FeedSettings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


def test_feed_settings_default_to_replaying_the_three_symbols(clean_env: pytest.MonkeyPatch) -> None:
    settings = FeedSettings()
    assert settings.market_feed is FeedMode.REPLAY
    assert settings.symbols == ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
    assert settings.market_feed_seed is None


def test_feed_settings_are_read_from_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("MARKET_FEED", "random")
    clean_env.setenv("MARKET_FEED_SPEED", "86400")
    clean_env.setenv("MARKET_FEED_TICK_INTERVAL", "0.25")
    clean_env.setenv("MARKET_FEED_SEED", "42")
    clean_env.setenv("MARKET_FEED_SYMBOLS", " SOL/USDT , BTC/USDT,SOL/USDT")
    clean_env.setenv("MARKET_FEED_VOLATILITY", "1.2")
    settings = FeedSettings()
    assert settings.market_feed is FeedMode.RANDOM
    assert settings.market_feed_speed == 86400
    assert settings.market_feed_tick_interval == 0.25
    assert settings.market_feed_seed == 42
    assert settings.symbols == ["SOL/USDT", "BTC/USDT"]
    assert settings.market_feed_volatility == Decimal("1.2")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MARKET_FEED", "live"),
        ("MARKET_FEED_SYMBOLS", "DOGE/USDT"),
        ("MARKET_FEED_SYMBOLS", " , "),
        ("MARKET_FEED_SPEED", "0"),
        ("MARKET_FEED_TICK_INTERVAL", "-1"),
        ("MARKET_FEED_MAX_TICKS", "0"),
    ],
)
def test_feed_settings_refuse_a_bad_value(clean_env: pytest.MonkeyPatch, name: str, value: str) -> None:
    clean_env.setenv(name, value)
    with pytest.raises(ValidationError):
        FeedSettings()
