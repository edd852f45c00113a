"""The seeded provider catalog (inserted idempotently at start; operators may deactivate entries)."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.wallets import IntegrationType

_MAJORS = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]


@dataclass(frozen=True)
class ProviderSpec:
    slug: str
    name: str
    integration_type: IntegrationType
    required_credentials: tuple[str, ...]
    supported_symbols: tuple[str, ...]
    description: str

    @property
    def is_demo(self) -> bool:
        return self.integration_type is IntegrationType.DEMO


CATALOG: tuple[ProviderSpec, ...] = (
    ProviderSpec(
        slug="demo-v1",
        name="Demo Wallet",
        integration_type=IntegrationType.DEMO,
        required_credentials=(),
        supported_symbols=tuple(_MAJORS),
        description="Paper trading on live-like prices: no keys, starts with 10,000 USDT by default.",
    ),
    ProviderSpec(
        slug="binance-v1",
        name="Binance",
        integration_type=IntegrationType.CEX,
        required_credentials=("api_key", "api_secret"),
        supported_symbols=tuple(_MAJORS),
        description="Binance spot account through its API (key and secret, trading permission only).",
    ),
    ProviderSpec(
        slug="coinbase-v1",
        name="Coinbase Advanced",
        integration_type=IntegrationType.CEX,
        required_credentials=("api_key", "api_secret"),
        supported_symbols=tuple(_MAJORS),
        description="Coinbase Advanced Trade spot account (CDP API key name and private key).",
    ),
    ProviderSpec(
        slug="kraken-v1",
        name="Kraken",
        integration_type=IntegrationType.CEX,
        required_credentials=("api_key", "api_secret"),
        supported_symbols=tuple(_MAJORS),
        description="Kraken spot account through its REST API.",
    ),
    ProviderSpec(
        slug="okx-v1",
        name="OKX",
        integration_type=IntegrationType.CEX,
        required_credentials=("api_key", "api_secret", "passphrase"),
        supported_symbols=tuple(_MAJORS),
        description="OKX spot account (API key, secret and passphrase).",
    ),
)
