"""``python -m demo_exchange``: run the paper-trading engine (uvloop) until SIGINT/SIGTERM.
The market feed is its own process: ``python -m demo_exchange.feed``."""

from __future__ import annotations

import sys

from pydantic import ValidationError

from demo_exchange.app import main
from servicekit.runtime import run


def entrypoint() -> None:
    try:
        run(main())
    except ValidationError as exc:
        print(f"demo-exchange: invalid configuration:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    entrypoint()
