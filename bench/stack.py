"""The platform for a bench run: NATS and the Mongo wire server (env URL or embedded), every service as its
own process, with the time from spawn to its ``ready`` log line and its resident memory."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from devstack.process import ChildProcess
from devstack.resolve import Endpoint, mongo_endpoint, nats_endpoint
from moniqo_cli.tokens import mint_token

SERVICES = (
    ("wallet-registry", "wallet_registry"),
    ("demo-exchange", "demo_exchange"),
    ("balance-sync", "balance_sync"),
    ("gateway", "gateway"),
)


@dataclass(frozen=True)
class Infra:
    nats: Endpoint
    mongo: Endpoint


@contextmanager
def infrastructure(workdir: Path) -> Iterator[Infra]:
    """``NATS_URL`` / ``MONGODB_URL`` when set, else the embedded servers (mongoeco in memory, as tests)."""
    with ExitStack() as stack:
        nats = stack.enter_context(nats_endpoint(workdir, use_docker=False))
        mongo = stack.enter_context(mongo_endpoint(workdir, use_docker=False, persistent=False))
        yield Infra(nats, mongo)


def rss_mib(pid: int) -> float | None:
    """Resident set size from /proc (Linux), in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@dataclass
class Service:
    name: str
    process: ChildProcess
    log_path: Path
    spawned_at: float
    ready_after: float | None = None

    def is_ready(self) -> bool:
        if self.ready_after is not None:
            return True
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return False
        for line in text.splitlines():
            try:
                if json.loads(line).get("event") == "ready":
                    self.ready_after = time.monotonic() - self.spawned_at
                    return True
            except ValueError:
                continue
        return False

    def rss(self) -> float | None:
        return rss_mib(self.process.pid)


@dataclass
class Platform:
    infra: Infra
    prefix: str
    log_dir: Path
    env: dict[str, str]
    jwt_secret: str
    services: dict[str, Service] = field(default_factory=dict)
    base_url: str = ""

    def token(self, user: str) -> str:
        return mint_token(user, self.jwt_secret, 6 * 3600)

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}"}

    def db(self, service: str) -> str:
        return f"{self.prefix}_{service}"

    def spawn(self, name: str, module: str, extra_env: dict[str, str] | None = None) -> Service:
        log_path = self.log_dir / f"{name}.log"
        log_path.unlink(missing_ok=True)
        proc = ChildProcess(
            [sys.executable, "-m", module], log_path=log_path, env={**self.env, **(extra_env or {})}
        )
        service = Service(name, proc, log_path, time.monotonic())
        self.services[name] = service
        return service

    def wait_ready(self, names: list[str], timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pending = [n for n in names if not self.services[n].is_ready()]
            if not pending:
                return
            for n in pending:
                if not self.services[n].process.alive():
                    tail = self.services[n].log_path.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"{n} exited during start:\n{tail}")
            time.sleep(0.01)
        raise TimeoutError(f"not ready within {timeout}s: {pending}")

    def stop(self, name: str) -> None:
        self.services.pop(name).process.stop()

    def stop_all(self) -> None:
        for name in list(self.services):
            self.stop(name)


def start_platform(infra: Infra, log_dir: Path, extra_env: dict[str, str] | None = None) -> Platform:
    log_dir.mkdir(parents=True, exist_ok=True)
    prefix = f"bench_{os.urandom(4).hex()}"
    port_file = log_dir / "gateway.port"
    port_file.unlink(missing_ok=True)
    jwt_secret = os.urandom(32).hex()
    env = {
        **os.environ,
        "NATS_URL": infra.nats.url,
        "MONGODB_URL": infra.mongo.url,
        "MONGODB_DB_PREFIX": prefix,
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "JWT_SECRET": jwt_secret,
        "GATEWAY_PORT": "0",
        "GATEWAY_PORT_FILE": str(port_file),
        "LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",
        "SYNC_INTERVAL": "86400",  # one sweep at start; P4 starts its own instances
        **(extra_env or {}),
    }
    platform = Platform(infra, prefix, log_dir, env, jwt_secret)
    try:
        for name, module in SERVICES:
            platform.spawn(name, module)
        platform.wait_ready([n for n, _ in SERVICES])
        port = int(port_file.read_text().strip())
        platform.base_url = f"http://127.0.0.1:{port}"
        _wait_serving(platform)
    except BaseException:
        platform.stop_all()
        raise
    return platform


def _wait_serving(platform: Platform, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    headers = platform.headers("bench-probe")
    while time.monotonic() < deadline:
        try:
            r = httpx.get(f"{platform.base_url}/api/v1/market/symbols", headers=headers, timeout=2)
            w = httpx.get(
                f"{platform.base_url}/api/v1/wallets/definitions?limit=1", headers=headers, timeout=2
            )
            if r.status_code == 200 and w.status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise TimeoutError("the platform did not serve in time")
