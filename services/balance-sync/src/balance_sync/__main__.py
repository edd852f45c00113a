"""``python -m balance_sync``: run the timer and sync service (uvloop) until SIGINT/SIGTERM."""

from __future__ import annotations

from balance_sync.app import main
from servicekit.runtime import serve


def entrypoint() -> None:
    serve("balance-sync", main)


if __name__ == "__main__":
    entrypoint()
