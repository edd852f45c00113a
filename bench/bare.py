"""``python -m bench.bare``: the P1 baseline — a bare FastAPI app on the gateway's server settings
(uvicorn, uvloop, httptools, no access log) answering the ticker's JSON from memory."""

from __future__ import annotations

import argparse
import json
import socket
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI


def create_app(body: dict[str, Any]) -> FastAPI:
    app = FastAPI()

    @app.get("/api/v1/market/tickers/{pair}")
    async def ticker(pair: str) -> dict[str, Any]:
        return body

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port-file", type=Path, required=True)
    parser.add_argument("--body", required=True, help="the JSON to answer")
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        create_app(json.loads(args.body)),
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        server_header=False,
    )
    args.port_file.write_text(str(sock.getsockname()[1]))
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
