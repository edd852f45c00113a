"""Windows, debounce buckets, balance changes, backoff: pure rules of balance-sync."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from balance_sync.domain.rules import (
    balance_changes,
    day_of,
    post_trade_job,
    scheduled_key,
    window_of,
    window_start,
)

T0 = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
D = Decimal


def test_every_moment_of_a_window_maps_to_the_same_window_and_the_next_one_does_not() -> None:
    w = window_of(T0, 300)
    assert window_of(window_start(w, 300), 300) == w
    assert window_of(window_start(w, 300) + timedelta(seconds=299.999), 300) == w
    assert window_of(window_start(w, 300) + timedelta(seconds=300), 300) == w + 1


def test_window_does_not_depend_on_the_timezone_of_the_clock() -> None:
    local = T0.astimezone(ZoneInfo("Asia/Tokyo"))
    assert window_of(local, 60) == window_of(T0, 60)


def test_scheduled_job_key_names_the_wallet_and_the_window() -> None:
    assert scheduled_key("w1", 42) == "w1:42"


def test_fills_in_one_debounce_bucket_share_a_job_run_after_the_bucket() -> None:
    start = datetime.fromtimestamp(1_800_000_000, UTC)
    key_a, nb_a = post_trade_job("w", start + timedelta(seconds=0.1), 2)
    key_b, nb_b = post_trade_job("w", start + timedelta(seconds=1.9), 2)
    key_c, nb_c = post_trade_job("w", start + timedelta(seconds=2.0), 2)
    assert key_a == key_b != key_c
    assert nb_a == nb_b == start + timedelta(seconds=2)
    assert nb_c == start + timedelta(seconds=4)


@pytest.mark.parametrize(
    ("before", "after", "changes"),
    [
        (None, {"USDT": D(10)}, {"USDT": D(10)}),
        ({"USDT": D(10)}, {"USDT": D(10)}, {}),
        ({"USDT": D(10), "BTC": D("0.5")}, {"USDT": D("7.5")}, {"BTC": D("-0.5"), "USDT": D("-2.5")}),
        ({}, {"ETH": D("0.00000001")}, {"ETH": D("0.00000001")}),
    ],
)
def test_balance_changes_are_signed_per_asset_and_omit_unchanged(
    before: dict[str, Decimal] | None, after: dict[str, Decimal], changes: dict[str, Decimal]
) -> None:
    assert balance_changes(before, after) == changes


def test_day_is_the_utc_calendar_day() -> None:
    assert day_of(datetime(2026, 5, 1, 23, 30, tzinfo=UTC)) == "2026-05-01"
