"""``python -m devstack.mongo_server``: serve mongoeco over the MongoDB wire protocol until SIGTERM.

It runs on the stdlib asyncio loop: mongoeco's shutdown calls ``Server.abort_clients``, which uvloop lacks.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path


async def serve(host: str, port: int, sqlite: str | None, ready_file: Path | None) -> None:
    from mongoeco.engines.memory import MemoryEngine
    from mongoeco.engines.sqlite import SQLiteEngine
    from mongoeco.wire.proxy import AsyncMongoEcoProxyServer

    engine = SQLiteEngine(sqlite) if sqlite else MemoryEngine()
    server = AsyncMongoEcoProxyServer(engine=engine, host=host, port=port)
    address = await server.start()
    if ready_file is not None:
        tmp = ready_file.with_suffix(".tmp")
        tmp.write_text(str(address.port))
        tmp.replace(ready_file)
    print(
        f"mongoeco wire server on mongodb://{address.host}:{address.port} ({sqlite or 'memory'})", flush=True
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--sqlite", default=None, help="SQLite file (default: memory)")
    parser.add_argument("--ready-file", type=Path, default=None, help="write the bound port here when ready")
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port, args.sqlite, args.ready_file))


if __name__ == "__main__":
    main()
