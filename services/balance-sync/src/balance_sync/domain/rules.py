"""Windows, debounce buckets and balance changes."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal


def window_of(at: datetime, interval_seconds: float) -> int:
    """The sync window a moment falls in: every instance computes the same number for the same moment."""
    return math.floor(at.timestamp() / interval_seconds)


def window_start(window: int, interval_seconds: float) -> datetime:
    return datetime.fromtimestamp(window * interval_seconds, UTC)


def scheduled_key(wallet_id: str, window: int) -> str:
    return f"{wallet_id}:{window}"


def post_trade_job(wallet_id: str, at: datetime, debounce_seconds: float) -> tuple[str, datetime]:
    """Fills in one debounce bucket share one job, run once the bucket has ended (after its last fill)."""
    bucket = math.floor(at.timestamp() / debounce_seconds)
    not_before = datetime.fromtimestamp((bucket + 1) * debounce_seconds, UTC)
    return f"{wallet_id}:post:{bucket}", not_before


def balance_changes(before: Mapping[str, Decimal] | None, after: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Signed change per asset since the last snapshot (assets that vanished count as going to zero)."""
    previous = dict(before or {})
    assets = set(previous) | set(after)
    deltas = {a: after.get(a, Decimal(0)) - previous.get(a, Decimal(0)) for a in assets}
    return {a: d for a, d in sorted(deltas.items()) if d != 0}


def day_of(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d")


def retention_cutoff(now: datetime, days: int = 30) -> datetime:
    return now - timedelta(days=days)
