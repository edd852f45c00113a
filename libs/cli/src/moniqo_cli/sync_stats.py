"""``moniqo sync stats``: ask balance-sync over NATS and show its figures."""

from __future__ import annotations

import nats
from rich.console import Console
from rich.table import Table

from contracts.replies import Reply
from contracts.subjects import Sync
from contracts.sync import GetStats, SyncStats


async def fetch_stats(nats_url: str, timeout: float = 10.0) -> SyncStats:
    nc = await nats.connect(nats_url, connect_timeout=5, max_reconnect_attempts=1)
    try:
        msg = await nc.request(Sync.STATS, GetStats().model_dump_json().encode(), timeout=timeout)
    finally:
        await nc.close()
    reply = Reply[SyncStats].model_validate_json(msg.data)
    if not reply.ok or reply.data is None:
        detail = reply.error.detail if reply.error else "no answer"
        raise RuntimeError(f"balance-sync refused: {detail}")
    return reply.data


def render(stats: SyncStats, console: Console) -> None:
    syncs = Table(title="Syncs")
    for column in ("window", "success", "failed"):
        syncs.add_column(column)
    syncs.add_row("last hour", str(stats.last_hour.success), str(stats.last_hour.failed))
    syncs.add_row("last day", str(stats.last_day.success), str(stats.last_day.failed))
    console.print(syncs)
    sweep = stats.last_sweep_at.isoformat() if stats.last_sweep_at else "never"
    console.print(f"last sweep: {sweep} (window {stats.last_sweep_window})")
    lag = Table(title="Consumers")
    for column in ("consumer", "pending", "ack pending", "redelivered"):
        lag.add_column(column)
    for name, c in stats.consumers.items():
        lag.add_row(name, str(c.pending), str(c.ack_pending), str(c.redelivered))
    console.print(lag)
    console.print(f"dead letters: {stats.dead_letters}")
