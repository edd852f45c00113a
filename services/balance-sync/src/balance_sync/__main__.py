"""``python -m balance_sync``: run the timer and sync service (uvloop) until SIGINT/SIGTERM."""

from __future__ import annotations

import sys

from pydantic import ValidationError

from balance_sync.app import main
from servicekit.runtime import run


def entrypoint() -> None:
    try:
        run(main())
    except ValidationError as exc:
        print(f"balance-sync: invalid configuration:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    entrypoint()
