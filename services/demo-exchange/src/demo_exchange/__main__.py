"""``python -m demo_exchange``: run the paper-trading engine (uvloop) until SIGINT/SIGTERM.
The market feed is its own process: ``python -m demo_exchange.feed``."""

from __future__ import annotations

from demo_exchange.app import main
from demo_exchange.settings import ExchangeSettings
from servicekit.runtime import serve


def entrypoint() -> None:
    serve("demo-exchange", main, ExchangeSettings, __doc__ or "")


if __name__ == "__main__":
    entrypoint()
