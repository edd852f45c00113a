"""``python -m demo_exchange.feed``: run the market feed (uvloop) until SIGINT/SIGTERM.

Configuration is by environment variables only; ``--help`` lists them.
"""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError

from demo_exchange.feed.publisher import main
from demo_exchange.feed.settings import FeedSettings
from servicekit.runtime import run

_SHOWN = {"nats_url", "log_level", "log_format"}


def _settings_help() -> str:
    lines = ["environment variables:"]
    for name, field in FeedSettings.model_fields.items():
        if name not in _SHOWN and not name.startswith("market_feed"):
            continue  # service-wide settings the feed does not read (MongoDB, outbox, workers)
        default = field.get_default(call_default_factory=True)
        shown = getattr(default, "value", default)
        lines.append(f"  {name.upper():<28} {field.description or ''} (default: {shown})")
    return "\n".join(lines)


def entrypoint(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(
        prog="python -m demo_exchange.feed",
        description="Publish price ticks on market.ticks.<BASE>-<QUOTE> (contracts.market.Tick).",
        epilog=_settings_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    ).parse_args(argv)
    try:
        run(main())
    except ValidationError as exc:
        print(f"market-feed: invalid configuration:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    entrypoint()
