"""Observability of the real processes: every service serves /healthz, /readyz and /metrics on its own
port (METRICS_PORT=0, reported in a port file per service), and the counters follow what users do."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from nats.aio.client import Client

from contracts.subjects import Exchange, Registry, Sync
from tests.observability.metrics_text import value
from tests.support.factories import fernet_key, user_id
from tests.support.stack import Stack, start_stack
from tests.support.trading import Trader, set_price
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow
SERVICES = ("wallet-registry", "demo-exchange", "balance-sync")


@pytest.fixture(scope="module")
def stack(nats_url: str, mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    log_dir = Path(tmp_path_factory.mktemp("observed-stack"))
    running = start_stack(
        nats_url=nats_url,
        mongo_url=mongo_url,
        db_prefix=f"obs_{uuid.uuid4().hex[:10]}",
        log_dir=log_dir,
        keys=fernet_key(),
        extra_env={
            "METRICS_PORT": "0",
            "METRICS_PORT_FILE": str(log_dir / "{service}.metrics-port"),
            "READINESS_TIMEOUT": "10",  # the shared test Mongo wire server can be slow under load
        },
    )
    yield running
    running.stop()


def reported_url(port_file: Path) -> str | None:
    text = port_file.read_text().strip() if port_file.exists() else ""
    return f"http://127.0.0.1:{text}" if text.isdigit() else None


@pytest.fixture
async def probes(stack: Stack) -> dict[str, str]:
    """Each service's endpoint, once it reports ready."""
    urls: dict[str, str] = {}
    async with httpx.AsyncClient(timeout=5) as client:
        for service in SERVICES:
            port_file = stack.log_dir / f"{service}.metrics-port"

            async def ready(port_file: Path = port_file) -> str | None:
                url = reported_url(port_file)
                if url is None:
                    return None
                try:
                    return url if (await client.get(f"{url}/readyz")).status_code == 200 else None
                except httpx.TransportError:
                    return None

            urls[service] = await eventually(ready, timeout=30, what=f"{service} ready")
    return urls


async def scrape(url: str) -> str:
    async with httpx.AsyncClient(timeout=5) as client:
        r = await client.get(f"{url}/metrics")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/plain")
        return r.text


async def test_every_service_is_ready_and_reports_its_checks(probes: dict[str, str]) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        for service, url in probes.items():
            r = await client.get(f"{url}/readyz")
            assert r.json() == {
                "status": "ready",
                "checks": {"service": "ok", "nats": "ok", "mongo": "ok"},
            }, service
            assert (await client.get(f"{url}/healthz")).status_code == 200


async def test_trading_and_syncing_move_the_business_counters_of_each_service(
    http: httpx.AsyncClient, stack: Stack, nc: Client, probes: dict[str, str]
) -> None:
    t = await Trader.open(http, stack, user_id(), balances={"USDT": "10000"})
    await set_price(http, stack, nc, "ETH/USDT", "3000.00")
    filled = await t.order(symbol="ETH/USDT", side="buy", type="market", quantity="0.1")
    assert filled.status_code == 201, filled.text
    resting = await t.order(symbol="ETH/USDT", side="buy", type="limit", quantity="0.1", price="2000.00")
    assert resting.status_code == 201, resting.text
    canceled = await http.delete(f"{t.base}/orders/{resting.json()['id']}", headers=t.headers)
    assert canceled.status_code == 200, canceled.text
    refused = await t.order(symbol="ETH/USDT", side="buy", type="market", quantity="100")
    assert refused.status_code == 422, refused.text
    synced = await http.post(f"{t.base}/sync-balance", headers=t.headers)
    assert (synced.status_code, synced.json()["status"]) == (200, "success")

    exchange = await scrape(probes["demo-exchange"])
    assert value(exchange, "moniqo_orders_total", status="filled") == 1
    assert value(exchange, "moniqo_orders_total", status="open") == 1
    assert value(exchange, "moniqo_orders_total", status="canceled") == 1
    assert value(exchange, "moniqo_orders_total", status="rejected") == 1
    assert value(exchange, "moniqo_order_rejections_total", code="insufficient_funds") == 1
    assert value(exchange, "moniqo_fills_total", symbol="ETH/USDT", side="buy") == 1
    assert value(exchange, "faststream_received_messages_total", handler=Exchange.ORDERS_PLACE) == 3
    assert value(exchange, "faststream_received_messages_total", handler=Exchange.ORDERS_CANCEL) == 1

    sync = await scrape(probes["balance-sync"])
    assert value(sync, "moniqo_syncs_total", status="success", trigger="manual") == 1
    assert value(sync, "faststream_received_messages_total", handler=Sync.RUN) == 1

    registry = await scrape(probes["wallet-registry"])
    assert value(registry, "faststream_received_messages_total", handler=Registry.WALLETS_CREATE) == 1

    # The gateway's own /metrics: its requests to the services, per subject, beside its HTTP metrics.
    gateway = (await http.get("/metrics")).text
    sent = value(gateway, "faststream_published_messages_total", destination=Exchange.ORDERS_PLACE)
    assert sent == 3
    assert value(gateway, "moniqo_http_requests_total", route="/api/v1/user-wallets/{wallet_id}/orders") >= 3
