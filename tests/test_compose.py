"""docker-compose.yml stays runnable without a Docker engine to prove it: every service's entrypoint
exists and every environment variable it sets is a real setting of that service."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
import yaml

from balance_sync.settings import SyncSettings
from demo_exchange.feed.settings import FeedSettings
from demo_exchange.settings import ExchangeSettings
from gateway.settings import GatewaySettings
from servicekit.settings import ServiceSettings
from wallet_registry.settings import RegistrySettings

ROOT = Path(__file__).resolve().parents[1]
SETTINGS: dict[str, type[ServiceSettings]] = {
    "gateway": GatewaySettings,
    "wallet_registry": RegistrySettings,
    "demo_exchange": ExchangeSettings,
    "demo_exchange.feed": FeedSettings,
    "balance_sync": SyncSettings,
}


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def app_services() -> list[tuple[str, dict[str, Any]]]:
    return [(name, svc) for name, svc in compose()["services"].items() if svc.get("build")]


@pytest.mark.parametrize(("name", "service"), app_services(), ids=lambda v: v if isinstance(v, str) else "")
def test_each_service_runs_an_existing_module_with_real_settings(name: str, service: dict[str, Any]) -> None:
    command = service["command"]
    assert command[:2] == ["python", "-m"], name
    module = command[2]
    assert importlib.util.find_spec(f"{module}.__main__") is not None, module
    fields = {f.upper() for f in SETTINGS[module].model_fields}
    unknown = set(service["environment"]) - fields
    assert not unknown, f"{name} sets variables no setting reads: {unknown}"


def test_every_app_service_waits_for_healthy_infrastructure() -> None:
    for name, service in app_services():
        assert service["depends_on"] == {
            "nats": {"condition": "service_healthy"},
            "mongo": {"condition": "service_healthy"},
        }, name
