"""A nats-server of its own with the per-service users of contracts.bus_permissions."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from contracts.bus_permissions import USER_ORDER, bus_permissions, render_authorization, with_credentials
from devstack.nats import EmbeddedNats


@dataclass(frozen=True)
class SecureBus:
    url: str
    prefix: str
    passwords: dict[str, str]
    log_path: Path

    def url_for(self, user: str) -> str:
        return with_credentials(self.url, user, self.passwords[user])

    def server_log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def secure_bus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBus]:
    workdir = tmp_path_factory.mktemp("secure-nats")
    prefix = f"sec_{uuid.uuid4().hex[:8]}"
    passwords = {user: secrets.token_hex(16) for user in USER_ORDER}
    table = bus_permissions(prefix)
    server = EmbeddedNats(
        workdir / "nats",
        log_path=workdir / "nats-server.log",
        authorization=render_authorization(prefix),
        env={table[user].password_env: password for user, password in passwords.items()},
    )
    try:
        yield SecureBus(server.url, prefix, passwords, workdir / "nats-server.log")
    finally:
        server.stop()
