"""``python -m gateway``: serve the HTTP API with uvicorn on uvloop."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import uvicorn
from pydantic import ValidationError

from gateway.app import create_app
from gateway.settings import GatewaySettings
from servicekit import logs
from servicekit.runtime import parse_args


def entrypoint() -> None:
    parse_args("python -m gateway", __doc__ or "", GatewaySettings)
    try:
        settings = GatewaySettings()
    except ValidationError as exc:
        print(f"gateway: invalid configuration:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from None
    logs.configure(settings.log_level, settings.log_format, "gateway")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.gateway_host, settings.gateway_port))  # port 0: the OS picks a free one
    port = sock.getsockname()[1]
    if settings.gateway_port_file:
        Path(settings.gateway_port_file).write_text(str(port))
    config = uvicorn.Config(
        create_app(settings),
        loop="uvloop",
        http="httptools",
        log_level=settings.log_level.lower(),
        access_log=False,
        server_header=False,
    )
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    entrypoint()
