"""``python -m balance_sync``: run the timer and sync service (uvloop) until SIGINT/SIGTERM."""

from __future__ import annotations

from balance_sync.app import main
from balance_sync.settings import SyncSettings
from servicekit.runtime import serve


def entrypoint() -> None:
    serve("balance-sync", main, SyncSettings, __doc__ or "")


if __name__ == "__main__":
    entrypoint()
