"""Run a service's asyncio main under uvloop (nats-py on 3.13 with the default loop is ~4x slower)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Coroutine
from typing import Any

import uvloop
from pydantic import ValidationError


def run(main: Coroutine[Any, Any, None]) -> None:
    uvloop.run(main)


def serve(name: str, main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """A service process: run ``main``; a bad configuration is refused with a clear message and exit 2."""
    try:
        run(main())
    except ValidationError as exc:
        print(f"{name}: invalid configuration:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from None
