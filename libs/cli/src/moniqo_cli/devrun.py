"""``moniqo run``: the whole platform locally, as separate processes, on the embedded default.

NATS_URL / MONGODB_URL from the environment are used as they are; otherwise an embedded nats-server
(JetStream, data in ``.data/nats``) and the mongoeco wire server (SQLite in ``.data/mongo``) start on
free ports. Dev secrets are generated once into ``.data/dev-secrets.env`` and reused, so data and tokens
survive a restart. Ctrl-C stops everything.
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from honcho.manager import Manager
from honcho.printer import Printer

from contracts.bus_permissions import bus_permissions, render_authorization, with_credentials
from devstack.nats import EmbeddedNats
from devstack.resolve import Endpoint, mongo_endpoint, nats_endpoint
from moniqo_cli.tokens import mint_token
from wallet_registry.crypto import generate_key

SERVICES: dict[str, list[str]] = {
    "wallet-registry": [sys.executable, "-m", "wallet_registry"],
    "demo-exchange": [sys.executable, "-m", "demo_exchange"],
    "balance-sync": [sys.executable, "-m", "balance_sync"],
    "market-feed": [sys.executable, "-m", "demo_exchange.feed"],
    "gateway": [sys.executable, "-m", "gateway"],
}


def dev_secrets(data_dir: Path) -> dict[str, str]:
    """JWT_SECRET and ENCRYPTION_KEYS: from the environment, else kept in ``.data/dev-secrets.env``."""
    path = data_dir / "dev-secrets.env"
    stored: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            name, _, value = line.partition("=")
            if name and value:
                stored[name.strip()] = value.strip()
    wanted = {"JWT_SECRET": lambda: secrets.token_urlsafe(48), "ENCRYPTION_KEYS": generate_key}
    changed = False
    for name, make in wanted.items():
        if name not in stored:
            stored[name] = make()
            changed = True
    if changed:
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # never readable by others
        with os.fdopen(fd, "w") as out:
            out.write("".join(f"{k}={v}\n" for k, v in stored.items()))
    return {name: os.environ.get(name) or stored[name] for name in wanted}


class SecureBusError(RuntimeError):
    """``--secure-bus`` needs the embedded nats-server (it writes the users into its configuration)."""


def secure_bus_passwords() -> dict[str, str]:
    """A fresh URL-safe password per bus user for this run (the embedded server's config is rewritten)."""
    return {name: secrets.token_hex(24) for name in bus_permissions().users}


def start_secure_nats(data_dir: Path, passwords: dict[str, str]) -> EmbeddedNats:
    """The embedded nats-server with one user per service (contracts.bus_permissions)."""
    if os.environ.get("NATS_URL"):
        raise SecureBusError(
            "--secure-bus starts its own nats-server: unset NATS_URL, or give each service its own "
            "credential on your server (deploy/nats/permissions.conf, README 'Bus permissions')"
        )
    prefix = os.environ.get("MONGODB_DB_PREFIX") or "moniqo"
    table = bus_permissions(prefix)
    return EmbeddedNats(
        data_dir / "nats",
        log_path=data_dir / "nats-server.log",
        authorization=render_authorization(prefix),
        env={table[name].password_env: password for name, password in passwords.items()},
    )


def run_platform(data_dir: Path, gateway_port: int, user: str, *, secure_bus: bool = False) -> int:
    data_dir.mkdir(parents=True, exist_ok=True)
    env_secrets = dev_secrets(data_dir)
    passwords = secure_bus_passwords() if secure_bus else {}
    with ExitStack() as stack:
        if secure_bus:
            server = start_secure_nats(data_dir, passwords)
            stack.callback(server.stop)
            nats = Endpoint(server.url, "embedded, one user per service")
        else:
            nats = stack.enter_context(nats_endpoint(data_dir, use_docker=False))
        mongo = stack.enter_context(mongo_endpoint(data_dir, use_docker=False))
        env = {
            **os.environ,
            **env_secrets,
            "NATS_URL": nats.url,
            "MONGODB_URL": mongo.url,
            "GATEWAY_PORT": str(gateway_port),
            "PYTHONUNBUFFERED": "1",
        }
        manager = Manager(Printer(sys.stdout))
        for name, cmd in SERVICES.items():
            # --secure-bus: each process connects as its own NATS user (named like the process).
            own = {"NATS_URL": with_credentials(nats.url, name, passwords[name])} if secure_bus else {}
            manager.add_process(name, " ".join(cmd), env={**env, **own})
        token = mint_token(user, env_secrets["JWT_SECRET"])
        # --secure-bus: operators use the read-only `operator` bus user (anonymous clients are refused).
        operator = with_credentials(nats.url, "operator", passwords["operator"]) if secure_bus else nats.url
        print(banner(gateway_port, nats, mongo, user, token, operator), flush=True)
        threading.Thread(target=announce_ready, args=(gateway_port, token), daemon=True).start()
        manager.loop()
        return clean_exit_code(manager.returncode)


def announce_ready(port: int, token: str, timeout: float = 120.0) -> None:
    """Say so once a request really goes through the gateway to the registry and back."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/wallets/definitions?limit=1",
        headers={"Authorization": f"Bearer {token}"},
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310 - our own localhost URL
                if response.status == 200:
                    print(f"\n  ✓ Moniqo is ready: http://127.0.0.1:{port}\n", flush=True)
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.2)
    print(f"\n  ✗ the gateway did not answer within {timeout:.0f}s: see the logs above\n", flush=True)


def clean_exit_code(returncode: int | None) -> int:
    """Ctrl-C / SIGTERM is a normal way to stop: children killed by our signal count as a clean exit."""
    stopped_by_us = {None, 0, -signal.SIGINT, -signal.SIGTERM, 128 + signal.SIGINT, 128 + signal.SIGTERM}
    return 0 if returncode in stopped_by_us else int(returncode or 1)


def banner(port: int, nats: Endpoint, mongo: Endpoint, user: str, token: str, operator_nats: str) -> str:
    return (
        "\n"
        "  Moniqo is starting (Ctrl-C stops everything)\n"
        f"  gateway   http://127.0.0.1:{port}   (API docs: http://127.0.0.1:{port}/docs)\n"
        f"  NATS      {nats.url}   ({nats.source}; subscribe to evt.> for events)\n"
        f"  MongoDB   {mongo.url}   ({mongo.source})\n"
        f"  dev token for user '{user}' (24 h):\n\n"
        f"  export TOKEN={token}\n"
        f'  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:{port}/api/v1/wallets/definitions\n\n'
        f"  operator commands (moniqo audit, moniqo wallets list, moniqo sync stats, nats sub 'evt.>'):\n"
        f"  export NATS_URL={operator_nats} MONGODB_URL='{mongo.url}'\n"
    )
