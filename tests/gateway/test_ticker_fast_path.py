"""``GET /api/v1/market/tickers/{pair}`` is answered before FastAPI's router (``gateway.fastpath``) with
exactly what the FastAPI route answers — status, headers, body and metrics — for good and bad requests
alike, and everything that is not a plain ticker GET still reaches FastAPI. Real NATS, demo-exchange
in-process; the gateway in-process over ASGI, once as built and once without the layer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from nats.aio.client import Client
from pydantic import SecretStr
from starlette.types import Receive, Scope, Send

from demo_exchange.app import ExchangeRuntime
from demo_exchange.settings import ExchangeSettings
from gateway.app import create_app
from gateway.fastpath import TickerFastPath
from gateway.settings import GatewaySettings
from moniqo_cli.tokens import mint_token
from tests.observability.metrics_text import samples
from tests.support.trading import publish_tick
from tests.support.waiting import eventually

SECRET = "k7Q2vX9pLm4RtY8wZa1BcD3eF5gH6jN0"
GOOD = f"Bearer {mint_token('u1', SECRET)}"
EXPIRED = f"Bearer {mint_token('u1', SECRET, ttl_seconds=-10)}"
WRONG_KEY = f"Bearer {mint_token('u1', 'another-secret-of-32-chars-long!')}"
ROUTE = "/api/v1/market/tickers/{pair}"

# (method, path, Authorization): every way a ticker request can go, and its neighbours.
CASES: list[tuple[str, str, str | None]] = [
    ("GET", "/api/v1/market/tickers/BTC-USDT", GOOD),  # 200
    ("GET", "/api/v1/market/tickers/BTC-USDT?verbose=1", GOOD),  # undeclared query: ignored
    ("GET", "/api/v1/market/tickers/BTC%2DUSDT", GOOD),  # percent-encoded: the decoded path
    ("GET", "/api/v1/market/tickers/ETH-USDT", GOOD),  # known symbol, no price yet: 404
    ("GET", "/api/v1/market/tickers/DOGE-USDT", GOOD),  # unknown symbol: 404
    ("GET", "/api/v1/market/tickers/btcusdt", GOOD),  # not BASE-QUOTE: 422
    ("GET", "/api/v1/market/tickers/BTC-USDT", None),  # 401 and its challenge
    ("GET", "/api/v1/market/tickers/BTC-USDT", "Basic dTE6cHc="),
    ("GET", "/api/v1/market/tickers/BTC-USDT", "Bearer"),
    ("GET", "/api/v1/market/tickers/BTC-USDT", "bearer not-a-jwt"),
    ("GET", "/api/v1/market/tickers/BTC-USDT", EXPIRED),
    ("GET", "/api/v1/market/tickers/BTC-USDT", WRONG_KEY),
    ("GET", "/api/v1/market/tickers/", GOOD),  # no pair: FastAPI's 404
    ("GET", "/api/v1/market/tickers/BTC-USDT/extra", GOOD),
    ("HEAD", "/api/v1/market/tickers/BTC-USDT", GOOD),  # 405
    ("POST", "/api/v1/market/tickers/BTC-USDT", GOOD),
]


@pytest.fixture
async def exchange(nats_url: str, mongo_url: str, db_name: str, nc: Client) -> AsyncIterator[ExchangeRuntime]:
    runtime = ExchangeRuntime(ExchangeSettings(nats_url=nats_url, mongodb_url=mongo_url, mongodb_db=db_name))
    await runtime.start()
    await publish_tick(nc, "BTC/USDT", "65000.5")

    async def priced() -> bool:
        return runtime.service.prices.get("BTC/USDT") is not None

    await eventually(priced, what="the BTC/USDT tick in demo-exchange")
    yield runtime
    await runtime.stop()


@asynccontextmanager
async def gateway(nats_url: str, *, fast_path: bool) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(GatewaySettings(nats_url=nats_url, jwt_secret=SecretStr(SECRET)))
    if not fast_path:
        app.user_middleware = [m for m in app.user_middleware if m.cls is not TickerFastPath]  # type: ignore[comparison-overlap]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            yield client


async def answers(client: httpx.AsyncClient) -> list[tuple[int, dict[str, str], bytes]]:
    found = []
    for n, (method, path, authorization) in enumerate(CASES):
        headers = {"X-Request-ID": f"req-{n}"}
        if authorization is not None:
            headers["Authorization"] = authorization
        r = await client.request(method, path, headers=headers)
        found.append((r.status_code, dict(r.headers), r.content))
    return found


def route_samples(metrics: str) -> dict[tuple[str, str], float]:
    """moniqo_http_requests_total of the ticker route, by (method, status)."""
    return {
        (labels["method"], labels["status"]): value
        for labels, value in samples(metrics, "moniqo_http_requests_total")
        if labels.get("route") == ROUTE
    }


async def test_the_fast_path_answers_every_ticker_request_exactly_as_the_fastapi_route(
    exchange: ExchangeRuntime, nats_url: str
) -> None:
    async with gateway(nats_url, fast_path=True) as fast:
        fast_answers = await answers(fast)
        fast_metrics = (await fast.get("/metrics")).text
    async with gateway(nats_url, fast_path=False) as routed:
        routed_answers = await answers(routed)
        routed_metrics = (await routed.get("/metrics")).text

    for case, got, expected in zip(CASES, fast_answers, routed_answers, strict=True):
        assert got == expected, case
    statuses = [status for status, _, _ in fast_answers]
    assert statuses == [200, 200, 200, 404, 404, 422, 401, 401, 401, 401, 401, 401, 404, 404, 405, 405]
    assert fast_answers[0][2].startswith(b'{"symbol":"BTC/USDT","price":"65000.5"')
    assert fast_answers[6][1]["www-authenticate"] == "Bearer"
    assert route_samples(fast_metrics) == route_samples(routed_metrics)
    assert route_samples(fast_metrics)[("GET", "200")] == 3


async def test_only_plain_ticker_gets_are_taken_and_the_rest_goes_on_to_fastapi(
    exchange: ExchangeRuntime, nats_url: str
) -> None:
    passed_on: list[tuple[str, str]] = []

    async def behind(scope: Scope, receive: Receive, send: Send) -> None:
        passed_on.append((scope["method"], scope["path"]))
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = create_app(GatewaySettings(nats_url=nats_url, jwt_secret=SecretStr(SECRET)))
    async with app.router.lifespan_context(app):
        layer = TickerFastPath(behind, bus=app.state.bus, verifier=app.state.verifier)
        transport = httpx.ASGITransport(app=layer)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            client.headers["Authorization"] = GOOD
            assert (await client.get("/api/v1/market/tickers/BTC-USDT")).json()["price"] == "65000.5"
            assert (await client.get("/api/v1/market/tickers/DOGE-USDT")).status_code == 404
            anonymous = await client.get("/api/v1/market/tickers/x", headers={"Authorization": ""})
            assert anonymous.status_code == 401
            assert passed_on == []
            for method, path in [
                ("POST", "/api/v1/market/tickers/BTC-USDT"),
                ("GET", "/api/v1/market/tickers/"),
                ("GET", "/api/v1/market/tickers/BTC-USDT/extra"),
                ("GET", "/api/v1/market/symbols"),
            ]:
                assert (await client.request(method, path)).status_code == 418
            assert passed_on == [
                ("POST", "/api/v1/market/tickers/BTC-USDT"),
                ("GET", "/api/v1/market/tickers/"),
                ("GET", "/api/v1/market/tickers/BTC-USDT/extra"),
                ("GET", "/api/v1/market/symbols"),
            ]
