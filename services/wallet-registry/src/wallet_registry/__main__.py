"""``python -m wallet_registry``: run the service (uvloop) until SIGINT/SIGTERM."""

from __future__ import annotations

from servicekit.runtime import serve
from wallet_registry.app import main
from wallet_registry.settings import RegistrySettings


def entrypoint() -> None:
    serve("wallet-registry", main, RegistrySettings, __doc__ or "")


if __name__ == "__main__":
    entrypoint()
