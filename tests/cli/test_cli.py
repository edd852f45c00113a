"""The ``moniqo`` command: keys, dev tokens, and ``moniqo run`` (the platform as separate processes)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import typer
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from moniqo_cli.main import app
from tests.support.stack import free_port

runner = CliRunner()


def test_keys_generate_prints_a_new_valid_fernet_key() -> None:
    first = runner.invoke(app, ["keys", "generate"])
    second = runner.invoke(app, ["keys", "generate"])
    assert first.exit_code == 0
    key = first.stdout.strip()
    Fernet(key.encode())  # raises if invalid
    assert key != second.stdout.strip()


def test_token_is_a_jwt_for_the_user_signed_with_jwt_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "x" * 40
    monkeypatch.setenv("JWT_SECRET", secret)
    result = runner.invoke(app, ["token", "--user", "alice", "--ttl", "600"])
    assert result.exit_code == 0
    claims = jwt.decode(result.stdout.strip(), secret, algorithms=["HS256"])
    assert claims["sub"] == "alice"
    assert 590 <= claims["exp"] - time.time() <= 600


def test_token_without_jwt_secret_uses_the_kept_dev_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    first = runner.invoke(app, ["token", "--user", "bob", "--data-dir", str(tmp_path)])
    second = runner.invoke(app, ["token", "--user", "bob", "--data-dir", str(tmp_path)])
    secrets_file = tmp_path / "dev-secrets.env"
    kept = dict(line.split("=", 1) for line in secrets_file.read_text().splitlines())
    assert secrets_file.stat().st_mode & 0o777 == 0o600
    for result in (first, second):
        assert jwt.decode(result.stdout.strip(), kept["JWT_SECRET"], algorithms=["HS256"])["sub"] == "bob"
    Fernet(kept["ENCRYPTION_KEYS"].encode())


def command_paths(command: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    subcommands: dict[str, Any] = getattr(command, "commands", {})
    return [path] + [p for name, sub in subcommands.items() for p in command_paths(sub, (*path, name))]


def test_every_command_has_help() -> None:
    paths = command_paths(typer.main.get_command(app))
    assert {
        ("audit",),
        ("wallets", "list"),
        ("keys", "rotate"),
        ("sync", "stats"),
        ("run",),
        ("bus-permissions",),
    } <= set(paths)
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "Usage" in result.stdout
        assert result.stdout.count("\n") > 3, path  # a description, not just a usage line


class RunningPlatform:
    """``moniqo run`` in its own process group, its output collected line by line."""

    def __init__(self, data_dir: Path, port: int, *args: str) -> None:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"NATS_URL", "MONGODB_URL", "JWT_SECRET", "ENCRYPTION_KEYS"}
        }
        env.update({"MONIQO_DATA_DIR": str(data_dir), "GATEWAY_PORT": str(port), "PYTHONUNBUFFERED": "1"})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moniqo_cli.main", "run", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.base = f"http://127.0.0.1:{port}"

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.append(raw.decode(errors="replace"))

    def wait_for_line(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if match := re.search(pattern, line):
                    return match
            assert self.proc.poll() is None, "".join(self.lines)
            time.sleep(0.05)
        raise AssertionError(f"no line matching {pattern!r}:\n{''.join(self.lines)}")

    def wait_serving(self, token: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                r = httpx.get(
                    f"{self.base}/api/v1/wallets/definitions", headers={"Authorization": f"Bearer {token}"}
                )
                if r.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert self.proc.poll() is None, "".join(self.lines)
            time.sleep(0.1)
        raise AssertionError("gateway never served:\n" + "".join(self.lines))

    def interrupt(self, timeout: float = 30) -> int:
        """Ctrl-C for the whole process group (as a terminal sends it); the exit code of ``moniqo run``."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            raise


def port_answers(url: str) -> bool:
    host, port = url.split("//")[1].split("/", maxsplit=1)[0].split("?", maxsplit=1)[0].rsplit(":", 1)
    import socket

    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, int(port))) == 0


@pytest.mark.slow
def test_moniqo_run_prints_url_and_token_serves_stops_cleanly_and_keeps_data(tmp_path: Path) -> None:
    port = free_port()
    first = RunningPlatform(tmp_path, port)
    try:
        token, nats_url, mongo_url, wallet_id = use_first_run(first, port)
    finally:
        exit_code = first.interrupt()
    assert exit_code == 0
    assert not port_answers(nats_url)
    assert not port_answers(mongo_url)
    assert not port_answers(first.base)

    second = RunningPlatform(tmp_path, port)
    try:
        second.wait_serving(token)  # the dev secret was kept: the old token still works
        headers = {"Authorization": f"Bearer {token}"}
        listed = httpx.get(f"{second.base}/api/v1/user-wallets", headers=headers).json()
        assert [w["id"] for w in listed["items"]] == [wallet_id]
    finally:
        second.interrupt()


def use_first_run(first: RunningPlatform, port: int) -> tuple[str, str, str, str]:
    token = first.wait_for_line(r"export TOKEN=(\S+)").group(1)
    nats_url = first.wait_for_line(r"NATS\s+(nats://\S+)").group(1)
    mongo_url = first.wait_for_line(r"MongoDB\s+(mongodb://\S+)").group(1)
    assert first.wait_for_line(rf"gateway\s+(http://127.0.0.1:{port})")
    first.wait_for_line(r"Moniqo is ready")
    first.wait_serving(token)
    headers = {"Authorization": f"Bearer {token}"}
    created = httpx.post(
        f"{first.base}/api/v1/user-wallets",
        json={"wallet_provider_id": "demo-v1", "custom_name": "kept"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    return token, nats_url, mongo_url, created.json()["id"]
