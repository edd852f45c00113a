"""The ``MONIQO_EVENTS`` JetStream stream, created (or brought up to date) idempotently by any service."""

from __future__ import annotations

from nats.aio.client import Client
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from contracts.subjects import EVENTS_DUPLICATE_WINDOW_SECONDS, EVENTS_STREAM, EVENTS_WILDCARD


def events_stream_config() -> StreamConfig:
    return StreamConfig(
        name=EVENTS_STREAM,
        subjects=[EVENTS_WILDCARD],
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        duplicate_window=float(EVENTS_DUPLICATE_WINDOW_SECONDS),
        max_age=30 * 24 * 3600.0,
    )


async def ensure_events_stream(nc: Client) -> None:
    """Create ``MONIQO_EVENTS`` if missing, or update an older config. Safe from many processes."""
    jsm = nc.jsm()
    wanted = events_stream_config()
    try:
        info = await jsm.stream_info(EVENTS_STREAM)
    except NotFoundError:
        try:
            await jsm.add_stream(wanted)
        except Exception:
            # Another instance created it between our lookup and our add: fine if it now exists.
            await jsm.stream_info(EVENTS_STREAM)
        return
    current = info.config
    if (current.duplicate_window or 0) < EVENTS_DUPLICATE_WINDOW_SECONDS or EVENTS_WILDCARD not in (
        current.subjects or []
    ):
        await jsm.update_stream(wanted)
