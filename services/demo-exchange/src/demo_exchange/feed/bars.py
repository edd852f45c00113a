"""The bundled historical bars (``data/msft_daily.csv``, provenance in ``data/SOURCE.md``)."""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import resources

DATA_FILE = "msft_daily.csv"
DATASET_BAR_SECONDS = 86_400
"""Every bundled series is daily: one bar is one simulated day."""


class BarDataError(ValueError):
    """The bundled bar file is malformed (a packaging bug, never a runtime condition)."""


@dataclass(frozen=True, slots=True)
class Bar:
    day: date
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal


def parse_bars(text: str) -> dict[str, tuple[Bar, ...]]:
    """``series,date,open,high,low,close[,volume]`` CSV text → bars per series, in file order."""
    series: dict[str, list[Bar]] = {}
    for line, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        try:
            bar = Bar(
                date.fromisoformat(row["date"]),
                Decimal(row["open"]),
                Decimal(row["high"]),
                Decimal(row["low"]),
                Decimal(row["close"]),
            )
        except (KeyError, ValueError, ArithmeticError) as exc:
            raise BarDataError(f"line {line}: {exc}") from exc
        if not (0 < bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high):
            raise BarDataError(f"line {line}: inconsistent bar {bar}")
        series.setdefault(row["series"], []).append(bar)
    return {name: tuple(bars) for name, bars in series.items()}


@functools.cache
def bundled_series() -> dict[str, tuple[Bar, ...]]:
    """Every bundled series (read once from the package data)."""
    text = resources.files("demo_exchange.feed").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    return parse_bars(text)
