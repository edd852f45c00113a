"""Composition root of the gateway: settings → broker (started in the lifespan) → FastAPI app."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from faststream.nats import NatsBroker

from gateway import asyncapi, problems
from gateway.auth import TokenVerifier
from gateway.fastpath import TickerFastPath
from gateway.limits import BodySizeLimit
from gateway.metrics import Metrics, MetricsMiddleware
from gateway.ratelimit import TokenBuckets
from gateway.request_id import RequestId
from gateway.routes import events, health, market, sync, trading, wallets
from gateway.settings import GatewaySettings
from servicekit.bus import RequestMetrics, ServiceBus
from servicekit.metrics import SubjectPatterns, broker_metrics

SERVICE = "gateway"
log = structlog.get_logger(SERVICE)

DESCRIPTION = """
Moniqo's wallet API. Every amount is a **decimal string** (`"0.015"`); JSON numbers are refused.
Authenticate with `Authorization: Bearer <JWT>` (`sub` = your user id;
`moniqo token --user you` mints a dev one).
Errors are RFC 9457 `application/problem+json` with a stable `code`.
"""


async def _connect(broker: NatsBroker, attempts: int = 60) -> None:
    for attempt in range(1, attempts + 1):
        try:
            await broker.start()
            return
        except Exception as exc:
            if attempt == attempts:
                raise
            log.warning("nats_connect_retry", attempt=attempt, error=type(exc).__name__)
            await asyncio.sleep(0.5)


def create_app(settings: GatewaySettings) -> FastAPI:
    metrics = Metrics()
    broker = NatsBroker(
        settings.nats_servers,
        name=SERVICE,
        logger=None,
        max_reconnect_attempts=-1,
        inbox_prefix=settings.nats_inbox_prefix,
    )
    # The requests the gateway makes: count, latency and failures per subject (faststream_published_*).
    broker.insert_middleware(broker_metrics(metrics.registry, SERVICE, SubjectPatterns(broker)))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await _connect(broker)
        # Everything built so far (modules, routes, models: ~all the heap) lives as long as the process:
        # out of the collector's sight, so the full collections that request garbage triggers stop
        # re-scanning it (bench P1 profile: the collector was ~7 % of the gateway's CPU under load).
        gc.collect()
        gc.freeze()
        log.info("ready", nats=settings.nats_servers_for_log)
        try:
            yield
        finally:
            try:
                await broker.stop()
            except Exception as exc:  # e.g. NATS is gone and the client is mid-reconnect: just close
                log.warning("nats_close_failed", error=type(exc).__name__)
                await broker.connection.close()

    # Swagger UI and ReDoc assets are served by the gateway itself (no CDN: /docs works offline).
    app = FastAPIOffline(
        title="Moniqo wallet API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.broker = broker
    # Requests go straight to the NATS client and are counted in the same faststream_published_* families.
    app.state.bus = ServiceBus(
        broker, timeout=settings.request_timeout, metrics=RequestMetrics(metrics.registry, SERVICE)
    )
    app.state.verifier = TokenVerifier(settings)
    app.state.order_limits = TokenBuckets(settings.order_rate_per_second, settings.order_burst)
    problems.install(app)
    # The innermost layer (each add_middleware wraps the ones before): the ticker answered before routing.
    app.add_middleware(TickerFastPath, bus=app.state.bus, verifier=app.state.verifier)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestId)
    app.add_route("/metrics", metrics.render, include_in_schema=False)
    app.include_router(health.router)
    # Routing tries routes in order: the market reads, the most frequent requests, are matched before
    # the wallet and trading routes (bench P1 profile: route matching was ~10 % of a ticker request).
    app.include_router(market.router)
    app.include_router(wallets.router)
    app.include_router(trading.router)
    app.include_router(sync.router)
    app.include_router(events.router)
    asyncapi.install(app)  # /asyncapi: the NATS commands and events, assets served here too
    return app
