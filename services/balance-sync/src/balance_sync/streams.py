"""``MONIQO_SYNC`` (work queue: sweeps, jobs, maintenance); poison jobs go to the shared ``MONIQO_DLQ``."""

from __future__ import annotations

from nats.aio.client import Client
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from contracts.subjects import Sync
from servicekit.consumers import ensure_dead_letter_stream


def sync_stream(ns: str, interval_seconds: float) -> StreamConfig:
    # The duplicate window must outlast a sync window: the same window's sweep and jobs are dropped.
    return StreamConfig(
        name=Sync.stream(ns),
        subjects=[Sync.subjects(ns)],
        storage=StorageType.FILE,
        retention=RetentionPolicy.WORK_QUEUE,
        duplicate_window=max(120.0, 2 * interval_seconds),
        max_age=7 * 24 * 3600.0,
    )


async def ensure_streams(nc: Client, ns: str, interval_seconds: float) -> None:
    await ensure_dead_letter_stream(nc)
    jsm = nc.jsm()
    wanted = sync_stream(ns, interval_seconds)
    try:
        info = await jsm.stream_info(Sync.stream(ns))
    except NotFoundError:
        try:
            await jsm.add_stream(wanted)
        except Exception:
            await jsm.stream_info(Sync.stream(ns))  # created by another instance meanwhile
        return
    if (info.config.duplicate_window or 0) < (wanted.duplicate_window or 0):
        await jsm.update_stream(wanted)
