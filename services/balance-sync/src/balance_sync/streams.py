"""``MONIQO_SYNC`` (work queue: sweeps, jobs, maintenance) and ``MONIQO_SYNC_DLQ`` (poison jobs)."""

from __future__ import annotations

from nats.aio.client import Client
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from contracts.subjects import Sync


def sync_stream(interval_seconds: float) -> StreamConfig:
    # The duplicate window must outlast a sync window: the same window's sweep and jobs are dropped.
    return StreamConfig(
        name=Sync.STREAM,
        subjects=["sync.>"],
        storage=StorageType.FILE,
        retention=RetentionPolicy.WORK_QUEUE,
        duplicate_window=max(120.0, 2 * interval_seconds),
        max_age=7 * 24 * 3600.0,
    )


def dead_letter_stream() -> StreamConfig:
    return StreamConfig(
        name=Sync.DLQ_STREAM,
        subjects=[Sync.DLQ_WILDCARD],
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        max_age=30 * 24 * 3600.0,
    )


async def ensure_streams(nc: Client, interval_seconds: float) -> None:
    jsm = nc.jsm()
    for wanted in (sync_stream(interval_seconds), dead_letter_stream()):
        assert wanted.name is not None
        try:
            info = await jsm.stream_info(wanted.name)
        except NotFoundError:
            try:
                await jsm.add_stream(wanted)
            except Exception:
                await jsm.stream_info(wanted.name)  # created by another instance meanwhile
            continue
        if (info.config.duplicate_window or 0) < (wanted.duplicate_window or 0):
            await jsm.update_stream(wanted)
