"""A service's operations endpoint: ``/healthz`` (the process answers), ``/readyz`` (every readiness check
passes within a deadline; 503 naming what failed otherwise) and ``/metrics`` (Prometheus text format).

A plain ASGI app on uvicorn (already the gateway's server), started inside the service's event loop:
no web framework, and uvicorn's signal handling stays off (the service's runner owns SIGINT/SIGTERM).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from collections.abc import Awaitable, Callable, Generator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

import structlog
import uvicorn
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

Check = Callable[[], Awaitable[None]]
"""A readiness check: returns when the dependency is usable, raises (or is too slow) when it is not."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = structlog.get_logger("probes")
START_TIMEOUT = 10.0


class NotReady(Exception):
    """A check's plain answer (e.g. "starting") instead of an exception's type name."""


async def readiness(checks: Mapping[str, Check], timeout: float) -> tuple[bool, dict[str, str]]:
    """Every check at once, each within ``timeout``: ``ok``, ``timeout`` or why it failed."""

    async def one(check: Check) -> str:
        try:
            await asyncio.wait_for(check(), timeout)
        except TimeoutError:
            return "timeout"
        except NotReady as exc:
            return str(exc) or "down"
        except Exception as exc:
            return f"down: {type(exc).__name__}"
        return "ok"

    results = await asyncio.gather(*(one(check) for check in checks.values()))
    report = dict(zip(checks, results, strict=True))
    return all(r == "ok" for r in results), report


class ProbeApp:
    """The ASGI app: three GET routes, JSON or Prometheus bodies, nothing else."""

    def __init__(self, registry: CollectorRegistry, checks: Mapping[str, Check], timeout: float) -> None:
        self.registry = registry
        self.checks = checks
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path not in {"/healthz", "/readyz", "/metrics"}:
            await _reply(send, 404, b'{"detail": "not found"}', "application/json")
        elif method not in {"GET", "HEAD"}:
            await _reply(send, 405, b'{"detail": "method not allowed"}', "application/json")
        elif path == "/healthz":
            await _reply(send, 200, b'{"status": "ok"}', "application/json")
        elif path == "/readyz":
            ready, report = await readiness(self.checks, self.timeout)
            body = {"status": "ready" if ready else "not_ready", "checks": report}
            await _reply(send, 200 if ready else 503, json.dumps(body).encode(), "application/json")
        else:
            accept = ""
            for name, value in scope.get("headers", []):
                if name == b"accept":
                    accept = value.decode("latin-1")
            encoder, content_type = choose_encoder(accept)
            await _reply(send, 200, encoder(self.registry), content_type)


async def _reply(send: Send, status: int, body: bytes, content_type: str) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside a running loop: the process's own runner handles signals, not uvicorn."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None]:
        yield


def port_file_path(template: str, service: str) -> Path:
    return Path(template.replace("{service}", service).replace("{pid}", str(os.getpid())))


class ProbeServer:
    """``start()`` binds (port 0: any free port, see ``port``) and serves until ``stop()``."""

    def __init__(
        self,
        app: ProbeApp,
        *,
        host: str,
        port: int,
        port_file: Path | None = None,
    ) -> None:
        self.app = app
        self.host = host
        self.requested_port = port
        self.port_file = port_file
        self.port: int | None = None
        self._server: _EmbeddedServer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in {"0.0.0.0", ""} else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.requested_port))
        except OSError:
            sock.close()
            raise
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            ws="none",
            log_config=None,
            log_level="warning",
            access_log=False,
            server_header=False,
        )
        server = _EmbeddedServer(config)
        self._server = server
        self._task = asyncio.create_task(server.serve(sockets=[sock]))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT
        while not server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
                raise RuntimeError("the probe server stopped during start")
            if loop.time() > deadline:
                raise TimeoutError("the probe server did not start")
            await asyncio.sleep(0.01)
        if self.port_file is not None:
            self.port_file.parent.mkdir(parents=True, exist_ok=True)
            self.port_file.write_text(str(self.port))
        log.info("probes_listening", url=self.url)

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        try:
            await self._task
        finally:
            self._server = None
            self._task = None
            if self.port_file is not None:
                self.port_file.unlink(missing_ok=True)
