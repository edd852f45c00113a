"""``python -m gateway``: serve the HTTP API with uvicorn on uvloop."""

from __future__ import annotations

import sys

import uvicorn
from pydantic import ValidationError

from gateway.app import create_app
from gateway.settings import GatewaySettings
from servicekit import logs


def entrypoint() -> None:
    try:
        settings = GatewaySettings()
    except ValidationError as exc:
        print(f"gateway: invalid configuration:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from None
    logs.configure(settings.log_level, settings.log_format, "gateway")
    uvicorn.run(
        create_app(settings),
        host=settings.gateway_host,
        port=settings.gateway_port,
        loop="uvloop",
        http="httptools",
        log_level=settings.log_level.lower(),
        access_log=False,
        server_header=False,
    )


if __name__ == "__main__":
    entrypoint()
