"""``python -m wallet_registry``: run the service (uvloop) until SIGINT/SIGTERM."""

from __future__ import annotations

import sys

from pydantic import ValidationError

from servicekit.runtime import run
from wallet_registry.app import main


def entrypoint() -> None:
    try:
        run(main())
    except ValidationError as exc:
        # Configuration errors (e.g. ENCRYPTION_KEYS) are refused at start with a clear message.
        print(f"wallet-registry: invalid configuration:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    entrypoint()
