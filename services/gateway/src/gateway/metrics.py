"""``/metrics`` (Prometheus text format, no token): requests by route template, method and status, and
their latency. Route templates, not raw paths, so ids never become label values."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekit.metrics import Children, new_registry


class Metrics:
    def __init__(self) -> None:
        self.registry = new_registry()  # with the process's CPU, memory and open files
        self.requests = Counter(
            "moniqo_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "moniqo_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )

        self._children = Children(self._labelled)  # looked up once per (method, route template, status)

    def _labelled(self, key: tuple[str, str, str]) -> tuple[Any, Any]:
        method, route, status = key
        return self.requests.labels(method, route, status), self.latency.labels(method, route)

    def observe(self, method: str, route: str, status: str, seconds: float) -> None:
        children = self._children((method, route, status))
        children[0].inc()
        children[1].observe(seconds)

    def render(self, _: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


def _route_template(scope: Scope) -> str:
    """The matched route's template: routing records the route in the (shared) scope."""
    route = scope.get("route")
    return str(getattr(route, "path", None) or "unmatched")


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            elapsed = time.perf_counter() - started
            self.metrics.observe(scope.get("method", ""), _route_template(scope), str(status), elapsed)
