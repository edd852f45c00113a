"""The timer, without Celery beat or leader election.

Every instance offers each window's sweep on ``sync.<ns>.sweep`` with ``Nats-Msg-Id = sweep:<window>``
(the window is ``floor(now / SYNC_INTERVAL)``, the same number on every instance), and each day's
maintenance with ``maintenance:<day>``. JetStream keeps the first and drops the rest inside its
duplicate window (longer than a sync window), and the work-queue consumer hands the one message to one
instance: exactly one sweep per window however many instances run, and none missed while one is up.
JetStream's own message scheduling (``Nats-Schedule``) would also do, but ties the cadence to a stream
setting instead of a service setting; deduplication needs nothing beyond what the events already use.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import structlog
from nats.aio.client import Client

from balance_sync.domain.rules import day_of, window_of
from contracts.subjects import Sync
from contracts.sync import Maintenance, Sweep

log = structlog.get_logger("balance-sync.timer")


class Timer:
    def __init__(self, nc: Client, *, ns: str, interval: float, tick: float) -> None:
        self._nc = nc
        self.ns = ns
        self.interval = interval
        self.tick = tick
        self.offered = 0

    async def offer(self, now: datetime) -> None:
        js = self._nc.jetstream(timeout=5)
        window = window_of(now, self.interval)
        sweep = Sweep(window=window, interval_seconds=self.interval)
        await js.publish(
            Sync.sweep(self.ns), sweep.model_dump_json().encode(), headers={"Nats-Msg-Id": f"sweep:{window}"}
        )
        day = day_of(now)
        maintenance = Maintenance(day=day).model_dump_json().encode()
        await js.publish(
            Sync.maintenance(self.ns), maintenance, headers={"Nats-Msg-Id": f"maintenance:{day}"}
        )
        self.offered += 1

    async def run(self) -> None:
        while True:
            try:
                await self.offer(datetime.now(UTC))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # NATS away for a moment: the next tick offers again
                log.warning("timer_offer_failed", error=type(exc).__name__)
            await asyncio.sleep(self.tick)
