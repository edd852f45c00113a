"""Market data and ping requests are answered off FastStream's per-message pipeline (``MemoryResponder``)
on real NATS — with the replies, error replies, queue group and metrics a FastStream handler gives."""

from __future__ import annotations

import json
from typing import Any

import pytest
from nats.aio.client import Client
from prometheus_client import generate_latest

from contracts.subjects import Exchange, QueueGroup
from demo_exchange.app import ExchangeRuntime
from tests.observability.metrics_text import value
from tests.support.trading import publish_tick
from tests.support.waiting import eventually

JSON = {"content-type": "application/json"}


async def ask(nc: Client, subject: str, body: bytes, headers: dict[str, str] | None = JSON) -> Any:
    reply = await nc.request(subject, body, timeout=5, headers=headers)
    assert reply.headers is not None
    assert reply.headers.get("content-type") == "application/json"
    return json.loads(reply.data)


async def test_ticker_is_answered_with_the_last_tick_once_one_arrived(
    exchange: ExchangeRuntime, nc: Client
) -> None:
    await publish_tick(nc, "BTC/USDT", "65000.00", source="market-test")

    async def quoted() -> dict[str, Any] | None:
        reply = await ask(nc, Exchange.MARKET_TICKER, b'{"symbol": "BTC/USDT"}')
        return reply if reply["ok"] else None

    reply = await eventually(quoted, what="the tick reached demo-exchange")
    assert reply["error"] is None
    assert reply["data"]["symbol"] == "BTC/USDT"
    assert reply["data"]["price"] == "65000.00"
    assert reply["data"]["source"] == "market-test"
    assert (await ask(nc, Exchange.PING, b"{}")) == {"ok": True, "data": {}, "error": None}
    symbols = await ask(
        nc, Exchange.MARKET_SYMBOLS, b"{}", headers=None
    )  # no content-type: JSON if it parses
    assert {"BTC/USDT", "ETH/USDT", "SOL/USDT"} <= {s["symbol"] for s in symbols["data"]["items"]}


@pytest.mark.parametrize(
    ("body", "headers", "code", "locs"),
    [
        (b'{"symbol": "XRP/USDT"}', JSON, "unknown_symbol", None),
        (b'{"symbol": 5}', JSON, "validation_error", [["cmd", "symbol"]]),
        (b'{"symbol": "BTC/USDT", "x": 1}', None, "validation_error", [["cmd", "x"]]),
        (b"[]", JSON, "validation_error", [["cmd"]]),
        (b'{"symbol": "BTC/USDT"}', {"content-type": "text/plain"}, "validation_error", [["cmd"]]),
        (b'{"symbol": "BTC/', JSON, "internal_error", None),  # as FastStream: the body did not decode
    ],
)
async def test_bad_ticker_requests_get_the_error_replies_a_faststream_handler_gives(
    exchange: ExchangeRuntime,
    nc: Client,
    body: bytes,
    headers: dict[str, str] | None,
    code: str,
    locs: list[list[str]] | None,
) -> None:
    reply = await ask(nc, Exchange.MARKET_TICKER, body, headers)
    assert reply["ok"] is False
    assert reply["data"] is None
    assert reply["error"]["code"] == code
    if locs is None:
        assert reply["error"]["errors"] is None
    else:
        assert [e["loc"] for e in reply["error"]["errors"]] == locs
    text = generate_latest(exchange.registry).decode()
    assert value(text, "moniqo_request_errors_total", subject=Exchange.MARKET_TICKER, code=code) == 1


async def test_market_requests_are_counted_and_served_by_one_queue_group_subscription(
    exchange: ExchangeRuntime, nc: Client
) -> None:
    for _ in range(3):
        await ask(nc, Exchange.PING, b"{}")
    await ask(nc, Exchange.MARKET_TICKER, b'{"symbol": "XRP/USDT"}')
    text = generate_latest(exchange.registry).decode()
    ping = {"app_name": "demo-exchange", "handler": Exchange.PING}
    assert value(text, "faststream_received_messages_total", **ping) == 3
    assert value(text, "faststream_received_processed_messages_total", status="acked", **ping) == 3
    assert value(text, "faststream_received_processed_messages_duration_seconds_count", **ping) == 3
    assert value(text, "faststream_received_messages_in_process", **ping) == 0
    ticker = {"app_name": "demo-exchange", "handler": Exchange.MARKET_TICKER}
    assert value(text, "faststream_received_messages_total", **ticker) == 1
    # The FastStream subscribers kept the subscription handed to them (they would have replaced it with
    # their own had they subscribed): one subscription per subject, in the service's queue group.
    subscribers = {getattr(s, "subject", None): s for s in exchange.broker.subscribers}
    by_subject = {getattr(a, "broker_address", None): s for a, s in subscribers.items()}
    for subject in (Exchange.MARKET_TICKER, Exchange.MARKET_SYMBOLS, Exchange.PING):
        subscription = getattr(by_subject[subject], "subscription", None)
        assert subscription is not None
        assert subscription is exchange.memory.subscriptions[subject]
        assert subscription.queue == QueueGroup.DEMO_EXCHANGE.value
