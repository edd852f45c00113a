"""Run a service's asyncio main under uvloop (nats-py on 3.13 with the default loop is ~4x slower)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import uvloop
from pydantic import ValidationError
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings


def run(main: Coroutine[Any, Any, None]) -> None:
    uvloop.run(main)


def settings_help(settings: type[BaseSettings], shown: Callable[[str], bool] = lambda _: True) -> str:
    """The environment variables a settings class reads, with their descriptions and defaults."""
    lines = ["environment variables:"]
    for name, field in settings.model_fields.items():
        if not shown(name):
            continue
        default = field.get_default(call_default_factory=True)
        value = (
            "required" if default is PydanticUndefined else f"default: {getattr(default, 'value', default)}"
        )
        lines.append(f"  {name.upper():<28} {field.description or ''} ({value})")
    return "\n".join(lines)


def parse_args(
    prog: str, description: str, settings: type[BaseSettings], argv: Sequence[str] | None = None
) -> None:
    """A service takes no arguments (configuration is the environment); ``--help`` lists the variables."""
    argparse.ArgumentParser(
        prog=prog,
        description=description,
        epilog=settings_help(settings),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    ).parse_args(argv)


def serve(
    name: str,
    main: Callable[[], Coroutine[Any, Any, None]],
    settings: type[BaseSettings] | None = None,
    description: str = "",
) -> None:
    """A service process: run ``main``; a bad configuration is refused with a clear message and exit 2.

    With ``settings``, ``--help`` prints the environment variables it reads and exits without starting.
    """
    if settings is not None:
        parse_args(f"python -m {name.replace('-', '_')}", description, settings)
    try:
        run(main())
    except ValidationError as exc:
        print(f"{name}: invalid configuration:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from None
