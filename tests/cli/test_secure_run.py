"""``moniqo run --secure-bus``: the embedded nats-server with one user per service; every process connects
with its own credential, anonymous clients are refused, the printed operator credential reads sync stats."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
import nats
import nats.errors
import pytest

from contracts.bus_permissions import redact_url
from tests.cli.test_cli import RunningPlatform
from tests.support.stack import free_port

pytestmark = pytest.mark.slow


async def anonymous_connect(url: str) -> None:
    nc = await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=5)
    await nc.close()


def test_moniqo_run_secure_bus_gives_each_process_its_own_nats_user(tmp_path: Path) -> None:
    port = free_port()
    platform = RunningPlatform(tmp_path, port, "--secure-bus")
    try:
        token = platform.wait_for_line(r"export TOKEN=(\S+)").group(1)
        nats_url = platform.wait_for_line(r"NATS\s+(nats://\S+)").group(1)
        operator_url = platform.wait_for_line(r"export NATS_URL=(nats://operator:\S+)").group(1)
        platform.wait_for_line(r"Moniqo is ready", timeout=90)
        headers = {"Authorization": f"Bearer {token}"}
        created = httpx.post(  # gateway → registry → demo-exchange, each as its own user
            f"{platform.base}/api/v1/user-wallets",
            json={
                "wallet_provider_id": "demo-v1",
                "custom_name": "secure",
                "initial_balances": {"USDT": "50"},
            },
            headers=headers,
        )
        assert created.status_code == 201, created.text
        wallet = created.json()["id"]
        synced = httpx.post(f"{platform.base}/api/v1/user-wallets/{wallet}/sync-balance", headers=headers)
        assert synced.status_code == 200, synced.text
        assert synced.json()["status"] == "success", synced.text

        with pytest.raises((nats.errors.Error, OSError)):
            asyncio.run(anonymous_connect(nats_url))

        env = {**os.environ, "NATS_URL": operator_url}
        stats = subprocess.run(
            [sys.executable, "-m", "moniqo_cli.main", "sync", "stats", "--json"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=False,
        )
        assert stats.returncode == 0, stats.stderr
        assert '"consumers"' in stats.stdout
    finally:
        assert platform.interrupt() == 0
    output = "".join(platform.lines)
    password = operator_url.split(":")[2].split("@")[0]
    assert output.count(password) == 1  # only in the banner line meant for the operator
    assert redact_url(operator_url) != operator_url
    server_log = (tmp_path / "nats-server.log").read_text(errors="replace")
    assert "Violation" not in server_log, server_log[-3000:]
