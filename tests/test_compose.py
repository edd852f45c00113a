"""docker-compose.yml stays runnable without a Docker engine to prove it: the file is valid against the
compose-spec JSON schema, every service's entrypoint starts (``python -m <module> --help``) and reads
every environment variable the file sets, and NATS runs the committed configuration (per-service users,
``max_payload``) that the real nats-server accepts."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

from balance_sync.settings import SyncSettings
from contracts.bus_permissions import USER_ORDER, password_env
from demo_exchange.feed.settings import FeedSettings
from demo_exchange.settings import ExchangeSettings
from devstack.nats import MAX_PAYLOAD, nats_server_binary
from gateway.settings import GatewaySettings
from servicekit.settings import ServiceSettings
from wallet_registry.settings import RegistrySettings

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "tests" / "schemas" / "compose-spec.json"
NATS_CONFIG_DIR = ROOT / "deploy" / "nats"
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


def schema_errors(document: dict[str, Any]) -> list[str]:
    validator = Draft7Validator(json.loads(SCHEMA.read_text()))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_compose_file_is_valid_against_the_compose_spec_schema() -> None:
    assert schema_errors(compose()) == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("services", "gateway", "comand"), ["python"]),  # a misspelt key
        (("services", "gateway", "depends_on", "nats", "condition"), "service_ready"),  # no such condition
        (("services", "nats", "ports"), "4222:4222"),  # a string where a list belongs
        (("services", "gateway", "restart"), ["always"]),  # a list where a string belongs
    ],
    ids=str,
)
def test_the_schema_refuses_a_broken_compose_file(path: tuple[str, ...], value: object) -> None:
    document = compose()
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert schema_errors(document)


@pytest.mark.parametrize(("name", "service"), app_services(), ids=lambda v: v if isinstance(v, str) else "")
def test_each_service_runs_an_existing_module_with_real_settings(name: str, service: dict[str, Any]) -> None:
    command = service["command"]
    assert command[:2] == ["python", "-m"], name
    module = command[2]
    assert importlib.util.find_spec(f"{module}.__main__") is not None, module
    fields = {f.upper() for f in SETTINGS[module].model_fields}
    unknown = set(service["environment"]) - fields
    assert not unknown, f"{name} sets variables no setting reads: {unknown}"


@pytest.mark.parametrize(("name", "service"), app_services(), ids=lambda v: v if isinstance(v, str) else "")
def test_each_service_entrypoint_starts_and_lists_the_variables_compose_sets(
    name: str, service: dict[str, Any]
) -> None:
    module = service["command"][2]
    env = {k: v for k, v in os.environ.items() if k not in {"NATS_URL", "MONGODB_URL"}}
    done = subprocess.run(
        [sys.executable, "-m", module, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"python -m {module}" in done.stdout
    listed = set(re.findall(r"^\s+([A-Z][A-Z0-9_]+)\s", done.stdout, re.MULTILINE))
    assert set(service["environment"]) <= listed, set(service["environment"]) - listed


def test_every_app_service_waits_for_healthy_infrastructure() -> None:
    for name, service in app_services():
        assert service["depends_on"] == {
            "nats": {"condition": "service_healthy"},
            "mongo": {"condition": "service_healthy"},
        }, name


@pytest.mark.parametrize(("name", "service"), app_services(), ids=lambda v: v if isinstance(v, str) else "")
def test_each_service_connects_as_its_own_nats_user(name: str, service: dict[str, Any]) -> None:
    assert name in USER_ORDER, f"{name} has no NATS user in contracts.bus_permissions"
    assert service["environment"]["NATS_URL"] == f"nats://{name}:${{{password_env(name)}:?}}@nats:4222"


def test_nats_runs_the_committed_config_with_every_users_password_and_max_payload() -> None:
    nats = compose()["services"]["nats"]
    assert nats["command"] == ["-c", "/etc/nats/moniqo/nats.conf"]
    assert "./deploy/nats:/etc/nats/moniqo:ro" in nats["volumes"]
    assert set(nats["environment"]) == {password_env(user) for user in USER_ORDER}
    config = (NATS_CONFIG_DIR / "nats.conf").read_text()
    assert re.search(rf"^max_payload: {MAX_PAYLOAD}$", config, re.MULTILINE)
    assert re.search(r'^include "permissions.conf"$', config, re.MULTILINE)


def nats_server_test(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``nats-server -t``: the real server parses the compose configuration (and its include) and exits."""
    return subprocess.run(
        [nats_server_binary(), "-t", "-c", str(NATS_CONFIG_DIR / "nats.conf")],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        check=False,
    )


def test_the_real_nats_server_accepts_the_compose_config_and_refuses_it_without_passwords() -> None:
    passwords = {password_env(user): f"dev-{user}-0123456789abcdef" for user in USER_ORDER}
    accepted = nats_server_test({"PATH": os.environ.get("PATH", ""), **passwords})
    assert accepted.returncode == 0, accepted.stderr + accepted.stdout
    missing = dict(passwords)
    del missing[password_env("market-feed")]
    refused = nats_server_test({"PATH": os.environ.get("PATH", ""), **missing})
    assert refused.returncode != 0
    assert password_env("market-feed") in refused.stderr + refused.stdout


def test_env_example_names_every_variable_compose_requires() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", text))
    example = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    assert required <= example, required - example
