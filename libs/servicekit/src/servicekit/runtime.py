"""Run a service's asyncio main under uvloop (nats-py on 3.13 with the default loop is ~4x slower)."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

import uvloop


def run(main: Coroutine[Any, Any, None]) -> None:
    uvloop.run(main)
