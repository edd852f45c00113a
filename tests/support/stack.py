"""The platform as real processes (``python -m wallet_registry``, ``python -m gateway``) for e2e tests."""

from __future__ import annotations

import os
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devstack.process import ChildProcess
from moniqo_cli.tokens import mint_token

# The market feed is left out: e2e tests publish their own ticks.
STACK_PROCESSES = (
    ("wallet-registry", "wallet_registry"),
    ("demo-exchange", "demo_exchange"),
    ("balance-sync", "balance_sync"),
    ("gateway", "gateway"),
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    base_url: str
    jwt_secret: str
    encryption_keys: str
    db_prefix: str
    log_dir: Path
    processes: dict[str, ChildProcess] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    def token(self, user: str, ttl: int = 3600) -> str:
        return mint_token(user, self.jwt_secret, ttl)

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}"}

    @property
    def registry_db(self) -> str:
        return f"{self.db_prefix}_registry"

    @property
    def exchange_db(self) -> str:
        return f"{self.db_prefix}_exchange"

    @property
    def sync_db(self) -> str:
        return f"{self.db_prefix}_sync"

    def add_process(self, name: str, module: str, env: dict[str, str]) -> ChildProcess:
        """Start one more service process on this stack (e.g. a second demo-exchange)."""
        proc = ChildProcess(
            [sys.executable, "-m", module], log_path=self.log_dir / f"{name}.log", env={**self.env, **env}
        )
        self.processes[name] = proc
        return proc

    def stop(self) -> None:
        for proc in self.processes.values():
            proc.stop()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("*.log")))


def start_stack(
    *,
    nats_url: str,
    mongo_url: str,
    db_prefix: str,
    log_dir: Path,
    keys: str,
    extra_env: dict[str, str] | None = None,
    process_env: dict[str, dict[str, str]] | None = None,
) -> Stack:
    """``process_env``: per process name, variables only that process gets (e.g. its own ``NATS_URL``)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    port_file = log_dir / "gateway.port"
    port_file.unlink(missing_ok=True)
    jwt_secret = os.urandom(32).hex()
    env = {
        **os.environ,
        "NATS_URL": nats_url,
        "MONGODB_URL": mongo_url,
        "MONGODB_DB_PREFIX": db_prefix,
        "ENCRYPTION_KEYS": keys,
        "JWT_SECRET": jwt_secret,
        "GATEWAY_PORT": "0",  # the gateway binds a free port itself and reports it: no port race
        "GATEWAY_PORT_FILE": str(port_file),
        "LOG_FORMAT": "json",
        "ORDER_BURST": "1000",  # the races below send hundreds of orders at once as one user
        # One sweep at start, then none mid-test (the timer test sets its own 2 s interval).
        "SYNC_INTERVAL": "86400",
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    stack = Stack("", jwt_secret, keys, db_prefix, log_dir, env=env)
    for name, module in STACK_PROCESSES:
        stack.processes[name] = ChildProcess(
            [sys.executable, "-m", module],
            log_path=log_dir / f"{name}.log",
            env={**env, **(process_env or {}).get(name, {})},
        )
    try:
        stack.base_url = f"http://127.0.0.1:{wait_for_port_file(stack, port_file)}"
        wait_until_serving(stack)
    except BaseException:
        stack.stop()
        raise
    return stack


def wait_for_port_file(stack: Stack, port_file: Path, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = port_file.read_text().strip() if port_file.exists() else ""
        if text.isdigit():
            return int(text)
        if not stack.processes["gateway"].alive():
            raise RuntimeError(f"gateway exited during start:\n{stack.logs()[-4000:]}")
        time.sleep(0.05)
    raise TimeoutError(f"the gateway did not bind within {timeout}s")


def wait_until_serving(stack: Stack, timeout: float = 60.0) -> None:
    """Ready = the gateway answers and a request reaches the registry through it."""
    deadline = time.monotonic() + timeout
    headers = stack.headers("readiness-probe")
    last = ""
    while time.monotonic() < deadline:
        for name, proc in stack.processes.items():
            if not proc.alive():
                raise RuntimeError(f"{name} exited during start:\n{stack.logs()[-4000:]}")
        try:
            r = httpx.get(f"{stack.base_url}/api/v1/wallets/definitions?limit=1", headers=headers, timeout=2)
            s = httpx.get(f"{stack.base_url}/api/v1/market/symbols", headers=headers, timeout=2)
            if r.status_code == 200 and s.status_code == 200:
                return
            last = f"{r.status_code} {r.text[:200]}"
        except httpx.TransportError as exc:
            last = type(exc).__name__
        time.sleep(0.1)
    raise TimeoutError(f"the stack did not serve within {timeout}s (last: {last})\n{stack.logs()[-4000:]}")
