"""A service's operations endpoint, in process on real NATS and a real Mongo wire server: FastStream's
per-subscription message metrics, the business counters, and readiness that names what is down."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from bson import ObjectId
from nats.aio.client import Client

from balance_sync.app import SyncRuntime
from balance_sync.settings import SyncSettings
from contracts.subjects import Exchange, Sync
from contracts.sync import RunSync, SyncLog, SyncStatus
from demo_exchange.app import ExchangeRuntime
from demo_exchange.settings import ExchangeSettings
from devstack.mongo import EmbeddedMongo
from devstack.nats import EmbeddedNats
from servicekit.bus import ServiceBus
from tests.demo_exchange.integration.conftest import demo_provider, demo_wallet, open_account
from tests.observability.metrics_text import label_values, value
from tests.support.trading import publish_tick
from tests.support.waiting import eventually
from wallets.demo import DemoWallet
from wallets.errors import InvalidOrder
from wallets.factory import create_wallet

D = Decimal
SLOW_MACHINE = 10.0  # readiness deadline: the shared test Mongo wire server can be slow under load


@pytest.fixture
async def exchange(nats_url: str, mongo_url: str, db_name: str) -> AsyncIterator[ExchangeRuntime]:
    settings = ExchangeSettings(
        nats_url=nats_url,
        mongodb_url=mongo_url,
        mongodb_db=db_name,
        metrics_port=0,
        readiness_timeout=SLOW_MACHINE,
    )
    runtime = ExchangeRuntime(settings)
    await runtime.start()
    yield runtime
    await runtime.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


def probes_url(runtime: ExchangeRuntime | SyncRuntime) -> str:
    assert runtime.probes is not None, "METRICS_PORT was set: the endpoint must be up"
    return runtime.probes.url


async def test_a_started_service_is_alive_and_ready_with_nats_and_mongo_up(
    exchange: ExchangeRuntime, http: httpx.AsyncClient
) -> None:
    url = probes_url(exchange)
    assert (await http.get(f"{url}/healthz")).json() == {"status": "ok"}
    ready = await http.get(f"{url}/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "checks": {"service": "ok", "nats": "ok", "mongo": "ok"}}
    assert (await http.get(f"{url}/nope")).status_code == 404
    assert (await http.post(f"{url}/metrics")).status_code == 405


async def test_metrics_count_messages_per_subscription_and_orders_fills_and_rejections(
    exchange: ExchangeRuntime, bus: ServiceBus, nc: Client, http: httpx.AsyncClient
) -> None:
    wallet = demo_wallet({"USDT": "10000"})
    await open_account(exchange, wallet)
    demo = create_wallet(demo_provider(), {}, wallet_id=wallet.id, user_id=wallet.user_id, bus=bus)
    assert isinstance(demo, DemoWallet)
    await publish_tick(nc, "BTC/USDT", "65000.00")

    async def priced() -> bool:
        return exchange.service.prices.get("BTC/USDT") is not None

    await eventually(priced, what="the tick reached demo-exchange")
    order = await demo.create_market_order("BTC/USDT", "buy", D("0.01"))
    assert order.status == "filled"
    with pytest.raises(InvalidOrder):
        await demo.create_market_order("BTC/USDT", "buy", D("0.000000001"))  # below the quantity step

    url = probes_url(exchange)

    async def scraped() -> str | None:
        text = (await http.get(f"{url}/metrics")).text
        # The trade's event comes back through the history consumer (evt.trade.executed.<wallet>).
        handled = value(text, "faststream_received_messages_total", handler="evt.trade.executed.*")
        return text if handled >= 1 else None

    text = await eventually(scraped, what="the history consumer took the trade event")
    place = {"app_name": "demo-exchange", "handler": Exchange.ORDERS_PLACE}
    assert value(text, "faststream_received_messages_total", **place) == 2
    assert value(text, "faststream_received_processed_messages_total", status="acked", **place) == 2
    assert value(text, "faststream_received_processed_messages_duration_seconds_count", **place) == 2
    # Both tick subscribers (every instance remembers the price; one per tick fills) under one pattern.
    assert value(text, "faststream_received_messages_total", handler="market.ticks.>") >= 2
    handlers = label_values(text, "faststream_received_messages_total", "handler")
    assert not [h for h in handlers if wallet.id in h or "BTC-USDT" in h], handlers  # bounded labels

    assert value(text, "moniqo_orders_total", status="filled") == 1
    assert value(text, "moniqo_orders_total", status="rejected") == 1
    assert value(text, "moniqo_orders_total", status="open") == 0
    assert value(text, "moniqo_order_rejections_total", code="invalid_quantity") == 1
    assert value(text, "moniqo_fills_total", symbol="BTC/USDT", side="buy", liquidity="taker") == 1
    assert (
        value(text, "moniqo_request_errors_total", subject=Exchange.ORDERS_PLACE, code="invalid_quantity")
        == 1
    )
    assert value(text, "process_resident_memory_bytes") > 0


async def test_balance_sync_counts_syncs_by_status_and_trigger(
    nats_url: str, mongo_url: str, db_name: str, bus: ServiceBus, http: httpx.AsyncClient
) -> None:
    settings = SyncSettings(
        nats_url=nats_url,
        mongodb_url=mongo_url,
        mongodb_db=db_name,
        mongodb_db_prefix=db_name[:40],
        metrics_port=0,
        wallet_timeout=2,
    )
    runtime = SyncRuntime(settings, timer=False)
    await runtime.start()
    try:
        # A wallet nobody knows: the registry cannot hand it over, so the manual sync is recorded as failed.
        cmd = RunSync(wallet_id=str(ObjectId()), user_id="nobody")
        result = await bus.request(Sync.RUN, cmd, SyncLog)
        assert result.status is SyncStatus.FAILED
        text = (await http.get(f"{probes_url(runtime)}/metrics")).text
        assert value(text, "moniqo_syncs_total", status="failed", trigger="manual") == 1
        assert value(text, "moniqo_syncs_total", status="success") == 0
        assert value(text, "moniqo_sync_duration_seconds_count", trigger="manual") == 1
        assert value(text, "faststream_received_messages_total", handler=Sync.RUN) == 1
    finally:
        await runtime.stop()


async def test_readyz_is_503_naming_mongo_when_mongo_goes_away(
    nats_url: str, db_name: str, tmp_path: Path, http: httpx.AsyncClient
) -> None:
    mongo = EmbeddedMongo(sqlite_path=None, ready_file=tmp_path / "mongo.port")
    settings = ExchangeSettings(
        nats_url=nats_url, mongodb_url=mongo.url, mongodb_db=db_name, metrics_port=0, readiness_timeout=2
    )
    runtime = ExchangeRuntime(settings)
    try:
        await runtime.start()
        url = probes_url(runtime)

        async def status(code: int) -> httpx.Response | None:
            r = await http.get(f"{url}/readyz")
            return r if r.status_code == code else None

        await eventually(lambda: status(200), timeout=15, what="readyz with this test's own Mongo up")
        mongo.stop()
        r = await eventually(lambda: status(503), timeout=30, what="readyz reports Mongo down")
        assert r.json()["status"] == "not_ready"
        checks = r.json()["checks"]
        assert checks["nats"] == "ok"
        assert checks["service"] == "ok"
        assert checks["mongo"] == "timeout" or checks["mongo"].startswith("down"), checks
        assert (await http.get(f"{url}/healthz")).status_code == 200  # alive, just not ready
    finally:
        await runtime.stop()
        mongo.stop()


async def test_readyz_is_503_naming_nats_when_nats_goes_away(
    mongo_url: str, db_name: str, tmp_path: Path, http: httpx.AsyncClient
) -> None:
    nats_server = EmbeddedNats(tmp_path / "nats")
    settings = ExchangeSettings(
        nats_url=nats_server.url,
        mongodb_url=mongo_url,
        mongodb_db=db_name,
        metrics_port=0,
        readiness_timeout=SLOW_MACHINE,
    )
    runtime = ExchangeRuntime(settings)
    try:
        await runtime.start()
        url = probes_url(runtime)
        r = await http.get(f"{url}/readyz")
        assert r.status_code == 200, r.text
        nats_server.kill()

        async def not_ready() -> httpx.Response | None:
            r = await http.get(f"{url}/readyz")
            return r if r.status_code == 503 else None

        r = await eventually(not_ready, timeout=15, what="readyz reports NATS down")
        assert r.json()["checks"] == {"service": "ok", "nats": "down", "mongo": "ok"}
    finally:
        await asyncio.wait_for(runtime.stop(), 10)
        nats_server.stop()
