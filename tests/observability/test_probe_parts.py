"""The pieces of the operations endpoint without a broker: bounded subject labels, readiness verdicts,
the three routes."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx
import pytest
from faststream.nats import JStream, NatsBroker, PullSub
from prometheus_client import CollectorRegistry, Counter

from contracts.subjects import subject_matches
from servicekit.metrics import SubjectPatterns, mask_ids
from servicekit.probes import NotReady, ProbeApp, port_file_path, readiness


@pytest.mark.parametrize(
    ("pattern", "subject", "matches"),
    [
        ("svc.exchange.orders.place", "svc.exchange.orders.place", True),
        ("svc.exchange.orders.place", "svc.exchange.orders.cancel", False),
        ("evt.trade.executed.*", "evt.trade.executed.6650c0ffee00000000000001", True),
        ("evt.trade.executed.*", "evt.trade.executed", False),
        ("evt.trade.executed.*", "evt.trade.executed.a.b", False),
        ("market.ticks.>", "market.ticks.BTC-USDT", True),
        ("market.ticks.>", "market.ticks", False),
        ("evt.>", "evt.wallet.created.x", True),
    ],
)
def test_subjects_match_nats_wildcards(pattern: str, subject: str, matches: bool) -> None:
    assert subject_matches(pattern, subject) is matches


@pytest.mark.parametrize(
    ("subject", "masked"),
    [
        ("sync.moniqo.jobs.6650c0ffee00000000000001", "sync.moniqo.jobs.*"),
        ("evt.order.updated.6650C0FFEE00000000000001", "evt.order.updated.*"),
        ("x.0f8fad5b-d9cb-469f-a165-70867728950e", "x.*"),
        ("svc.exchange.orders.place", "svc.exchange.orders.place"),
    ],
)
def test_id_tokens_are_masked_in_subject_labels(subject: str, masked: str) -> None:
    assert mask_ids(subject) == masked


def test_a_received_subject_is_labelled_with_the_subscription_that_takes_it() -> None:
    broker = NatsBroker()

    @broker.subscriber("svc.exchange.orders.place", queue="demo-exchange")
    async def place(body: str) -> None: ...

    @broker.subscriber(
        "evt.trade.executed.*", stream=JStream("S", declare=False), durable="d", pull_sub=PullSub()
    )
    async def trades(body: str) -> None: ...

    labels = SubjectPatterns(broker)
    assert labels.label("svc.exchange.orders.place") == "svc.exchange.orders.place"
    assert labels.label("evt.trade.executed.6650c0ffee00000000000001") == "evt.trade.executed.*"
    assert labels.label("sync.ns.jobs.6650c0ffee00000000000001") == "sync.ns.jobs.*"  # no subscription


async def test_readiness_names_each_failed_check() -> None:
    async def fine() -> None:
        return None

    async def slow() -> None:
        await asyncio.sleep(5)

    async def broken() -> None:
        raise ConnectionError("refused")

    async def starting() -> None:
        raise NotReady("starting")

    ready, report = await readiness({"a": fine}, timeout=0.2)
    assert (ready, report) == (True, {"a": "ok"})
    ready, report = await readiness(
        {"a": fine, "mongo": slow, "nats": broken, "service": starting}, timeout=0.2
    )
    assert ready is False
    assert report == {"a": "ok", "mongo": "timeout", "nats": "down: ConnectionError", "service": "starting"}


async def test_the_endpoint_serves_three_routes_and_nothing_else() -> None:
    registry = CollectorRegistry()
    Counter("moniqo_example", "an example", registry=registry).inc(3)

    async def down() -> None:
        raise NotReady("down")

    app = ProbeApp(registry, {"nats": down}, timeout=1)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        not_ready = await client.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.json() == {"status": "not_ready", "checks": {"nats": "down"}}
        metrics = await client.get("/metrics")
        assert "moniqo_example_total 3.0" in metrics.text
        assert metrics.headers["content-type"].startswith("text/plain")
        openmetrics = await client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
        assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")
        assert (await client.get("/")).status_code == 404
        assert (await client.delete("/metrics")).status_code == 405


def test_a_port_file_template_gives_each_process_its_own_file(tmp_path: Path) -> None:
    template = str(tmp_path / "{service}-{pid}.port")
    assert port_file_path(template, "demo-exchange") == tmp_path / f"demo-exchange-{os.getpid()}.port"
    assert port_file_path(str(tmp_path / "fixed.port"), "balance-sync") == tmp_path / "fixed.port"
