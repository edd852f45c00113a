"""The gateway answers 503 when no service responds and 504 when one does not answer in time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import nats
import pytest
from pydantic import SecretStr

from contracts.subjects import Registry
from devstack.nats import EmbeddedNats
from gateway.app import create_app
from gateway.settings import GatewaySettings
from moniqo_cli.tokens import mint_token
from tests.support.waiting import eventually

SECRET = "k7Q2vX9pLm4RtY8wZa1BcD3eF5gH6jN0"


@pytest.fixture
def lonely_nats(tmp_path: Path) -> Iterator[str]:
    """A NATS server of this test's own, where no registry runs."""
    server = EmbeddedNats(tmp_path / "nats")
    yield server.url
    server.stop()


@asynccontextmanager
async def gateway_client(nats_url: str, request_timeout: float) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        GatewaySettings(nats_url=nats_url, jwt_secret=SecretStr(SECRET), request_timeout=request_timeout)
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            client.headers["Authorization"] = f"Bearer {mint_token('u1', SECRET)}"
            yield client


async def test_no_responders_is_503_service_unavailable(lonely_nats: str) -> None:
    async with gateway_client(lonely_nats, request_timeout=5) as client:
        r = await client.get("/api/v1/user-wallets")
        assert r.status_code == 503
        assert r.json()["code"] == "service_unavailable"
        assert r.headers["content-type"].startswith("application/problem+json")


async def test_a_service_that_does_not_answer_in_time_is_504(lonely_nats: str) -> None:
    nc = await nats.connect(lonely_nats)
    received = asyncio.Event()

    async def silent(_: object) -> None:
        received.set()  # takes the request and never replies

    await nc.subscribe(Registry.WALLETS_LIST, queue="wallet-registry", cb=silent)
    await nc.flush()
    try:
        async with gateway_client(lonely_nats, request_timeout=0.3) as client:
            r = await client.get("/api/v1/user-wallets")
            assert r.status_code == 504
            assert r.json()["code"] == "service_timeout"
            assert received.is_set()
    finally:
        await nc.close()


async def test_readyz_is_503_when_nats_is_gone(tmp_path: Path) -> None:
    server = EmbeddedNats(tmp_path / "nats")
    try:
        async with gateway_client(server.url, request_timeout=1) as client:
            assert (await client.get("/readyz")).status_code == 200
            server.kill()

            async def not_ready() -> bool:
                return (await client.get("/readyz")).status_code == 503

            await eventually(not_ready, timeout=15, what="readyz reports NATS down")
            assert (await client.get("/readyz")).json()["checks"]["nats"] == "down"
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "set JWT_SECRET"),
        ({"JWT_SECRET": "short"}, "at least 32 characters"),
    ],
)
def test_gateway_refuses_to_start_without_a_usable_jwt_key(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.delenv("JWT_PUBLIC_KEY", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=message) as info:
        GatewaySettings()
    assert "short" not in str(info.value).replace("at least", "")


async def test_order_placement_past_the_per_user_rate_is_429_with_retry_after(lonely_nats: str) -> None:
    app = create_app(
        GatewaySettings(
            nats_url=lonely_nats,
            jwt_secret=SecretStr(SECRET),
            request_timeout=1,
            order_rate_per_second=0.5,
            order_burst=2,
        )
    )
    body = {"symbol": "BTC/USDT", "side": "buy", "type": "market", "quantity": "0.01"}
    url = "/api/v1/user-wallets/6650c0ffee00000000000001/orders"
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://gw") as client,
    ):
        alice = {"Authorization": f"Bearer {mint_token('alice', SECRET)}"}
        bob = {"Authorization": f"Bearer {mint_token('bob', SECRET)}"}
        first = [await client.post(url, json=body, headers=alice) for _ in range(2)]
        limited = await client.post(url, json=body, headers=alice)
        other_user = await client.post(url, json=body, headers=bob)
        reads = await client.get("/api/v1/user-wallets/6650c0ffee00000000000001/orders", headers=alice)
    assert [r.status_code for r in first] == [503, 503]  # within the burst: on to the (absent) exchange
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert int(limited.headers["retry-after"]) >= 1
    assert other_user.status_code == 503  # buckets are per user
    assert reads.status_code == 503  # reads are not limited


def test_token_bucket_refills_at_its_rate() -> None:
    from gateway.ratelimit import RateLimited, TokenBuckets

    buckets = TokenBuckets(rate_per_second=2, burst=3)
    for _ in range(3):
        buckets.take("u", now=100.0)
    with pytest.raises(RateLimited) as info:
        buckets.take("u", now=100.0)
    assert info.value.retry_after == pytest.approx(0.5)
    buckets.take("u", now=100.5)  # one token back after 1/rate seconds
    with pytest.raises(RateLimited):
        buckets.take("u", now=100.5)
