"""An embedded MongoDB wire-protocol server (``mongoeco``) in its own process, SQLite file or memory."""

from __future__ import annotations

import sys
from pathlib import Path

from devstack.process import ChildProcess, wait_for


class EmbeddedMongo:
    """Runs ``python -m devstack.mongo_server``; the URL is a plain ``mongodb://`` URL for pymongo."""

    def __init__(
        self, *, sqlite_path: Path | None, ready_file: Path, log_path: Path | None = None, port: int = 0
    ):
        if ready_file.exists():
            ready_file.unlink()
        args = [sys.executable, "-m", "devstack.mongo_server", "--ready-file", str(ready_file)]
        if port:  # e.g. to restart a server where its clients expect it (0: any free port)
            args += ["--port", str(port)]
        if sqlite_path is not None:
            sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            args += ["--sqlite", str(sqlite_path)]
        self.process = ChildProcess(args, log_path=log_path)
        self._ready_file = ready_file
        port = wait_for(self._read_port, timeout=30, what="mongoeco wire server", child=self.process)
        self.url = f"mongodb://127.0.0.1:{port}/?directConnection=true"

    def _read_port(self) -> int | None:
        try:
            text = self._ready_file.read_text().strip()
        except FileNotFoundError:
            return None
        return int(text) if text.isdigit() else None

    def stop(self) -> None:
        self.process.stop()
