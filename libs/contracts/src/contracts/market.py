"""Market data: instruments, ticks (``market.ticks.<BASE>-<QUOTE>``) and tickers."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from contracts.base import Model
from contracts.values import Amount, Asset, Symbol


class Tick(Model):
    """One price observation. Any process may publish it on ``market.ticks.<BASE>-<QUOTE>``."""

    symbol: Symbol = Field(examples=["BTC/USDT"])
    price: Amount = Field(gt=0, examples=["65000.00"])
    ts: datetime
    source: str = Field(min_length=1, max_length=100, examples=["replay:btc-daily", "synthetic", "random"])


class Ticker(Model):
    symbol: Symbol
    price: Amount
    ts: datetime
    source: str


class SymbolInfo(Model):
    """An instrument's trading rules (``GET /market/symbols``)."""

    symbol: Symbol
    base: Asset
    quote: Asset
    price_step: Amount
    quantity_step: Amount
    min_quantity: Amount
    min_notional: Amount
    maker_fee_rate: Amount
    taker_fee_rate: Amount


def symbol_token(symbol: str) -> str:
    """``BTC/USDT`` → ``BTC-USDT`` (the subject and URL form)."""
    return symbol.replace("/", "-")


def symbol_from_token(token: str) -> str:
    """``BTC-USDT`` → ``BTC/USDT``."""
    return token.replace("-", "/", 1)
