"""The gateway's request metrics: one series per method, route template and status, each counted once per
request with its latency (the labelled series are looked up once and reused)."""

from __future__ import annotations

from prometheus_client import generate_latest

from gateway.metrics import Metrics
from tests.observability.metrics_text import value

TICKER = "/api/v1/market/tickers/{pair}"
ORDERS = "/api/v1/user-wallets/{wallet_id}/orders"


def test_each_request_counts_once_in_its_own_series_with_its_latency() -> None:
    metrics = Metrics()

    metrics.observe("GET", TICKER, "200", 0.0004)
    metrics.observe("GET", TICKER, "200", 0.003)
    metrics.observe("GET", TICKER, "404", 0.0002)
    metrics.observe("POST", ORDERS, "201", 0.02)

    text = generate_latest(metrics.registry).decode()
    requests = "moniqo_http_requests_total"
    assert value(text, requests, method="GET", route=TICKER, status="200") == 2
    assert value(text, requests, method="GET", route=TICKER, status="404") == 1
    assert value(text, requests, method="POST", route=ORDERS, status="201") == 1
    assert value(text, requests, method="POST", route=TICKER) == 0
    latency = "moniqo_http_request_duration_seconds"
    assert value(text, f"{latency}_count", method="GET", route=TICKER) == 3
    assert value(text, f"{latency}_bucket", method="GET", route=TICKER, le="0.001") == 2
    assert value(text, f"{latency}_count", method="POST", route=ORDERS) == 1
    assert abs(value(text, f"{latency}_sum", method="POST", route=ORDERS) - 0.02) < 1e-9
