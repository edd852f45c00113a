"""The feed against a real nats-server, and as the process ``python -m demo_exchange.feed``."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal

from nats.aio.client import Client
from nats.aio.msg import Msg

from contracts.market import Tick
from contracts.subjects import tick_subject
from demo_exchange.feed.publisher import run_feed
from demo_exchange.feed.settings import FeedMode, FeedSettings
from tests.support.waiting import eventually

SYMBOL_SUBJECTS = {"market.ticks.BTC-USDT", "market.ticks.ETH-USDT", "market.ticks.SOL-USDT"}


def feed_settings(nats_url: str, **overrides: object) -> FeedSettings:
    values: dict[str, object] = {
        "nats_url": nats_url,
        "market_feed": FeedMode.REPLAY,
        "market_feed_tick_interval": 0.02,
        "market_feed_speed": 86_400 / (6 * 0.02),  # six ticks a bar: four bar points, two synthetic
        "market_feed_seed": 7,
    }
    values.update(overrides)
    return FeedSettings.model_validate(values)


async def test_replay_feed_publishes_a_bounded_run_of_ticks_on_market_ticks(
    nc: Client, nats_url: str
) -> None:
    received: list[Msg] = []

    async def collect(msg: Msg) -> None:
        received.append(msg)

    sub = await nc.subscribe("market.ticks.>", cb=collect)
    await nc.flush()
    started = datetime.now(UTC)
    settings = feed_settings(nats_url, market_feed_max_ticks=18)
    sent = await asyncio.wait_for(run_feed(settings, asyncio.Event()), timeout=30)
    await eventually(lambda: _at_least(received, 18), what="18 ticks on market.ticks.>")
    await sub.unsubscribe()

    assert sent == 18
    assert len(received) == 18
    assert {m.subject for m in received} == SYMBOL_SUBJECTS
    ticks = [Tick.model_validate_json(m.data) for m in received]
    assert all(m.subject == tick_subject(t.symbol) for m, t in zip(received, ticks, strict=True))
    assert all(b'"price":"' in m.data for m in received)  # decimal strings on the wire, never JSON numbers
    first = {t.symbol: t for t in ticks[:3]}
    assert {s: t.price for s, t in first.items()} == {
        "BTC/USDT": Decimal("65000.00"),
        "ETH/USDT": Decimal("3500.00"),
        "SOL/USDT": Decimal("150.00"),
    }
    assert first["BTC/USDT"].source == "replay:msft-daily-2017:scaled"
    assert {t.source for t in ticks} >= {"synthetic", "replay:msft-daily-2000:scaled"}
    assert all(started <= t.ts <= datetime.now(UTC) for t in ticks)
    assert all(t.price.as_tuple().exponent == -2 for t in ticks)


async def _at_least(received: list[Msg], n: int) -> bool:
    return len(received) >= n


async def test_off_mode_publishes_nothing_and_returns_when_stopped() -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(run_feed(feed_settings("nats://127.0.0.1:1", market_feed=FeedMode.OFF), stop))
    await asyncio.sleep(0)
    assert not task.done()
    stop.set()
    assert await asyncio.wait_for(task, timeout=5) == 0


def test_feed_module_help_lists_its_settings_and_exits_zero() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "demo_exchange.feed", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for name in (
        "MARKET_FEED ",
        "MARKET_FEED_SPEED",
        "MARKET_FEED_TICK_INTERVAL",
        "MARKET_FEED_SEED",
        "NATS_URL",
    ):
        assert name in result.stdout


async def test_feed_process_stops_cleanly_on_sigterm(nats_url: str) -> None:
    env = {**os.environ, "NATS_URL": nats_url, "MARKET_FEED": "random", "MARKET_FEED_TICK_INTERVAL": "0.05"}
    env.pop("MARKET_FEED_MAX_TICKS", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "demo_exchange.feed", env=env, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(30):  # the start line comes after the signal handlers are installed
            while b"market_feed_started" not in await proc.stdout.readline():
                assert proc.returncode is None, "the feed exited before starting"
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), timeout=10) == 0
        assert b"market_feed_stopped" in await proc.stdout.read()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
