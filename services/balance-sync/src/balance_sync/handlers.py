"""balance-sync subscribers: commands (queue group ``balance-sync``) and durable JetStream consumers
shared by every instance. Every consumer acks manually through ``servicekit.consumers.settle``: success →
ack; failure → NAK with exponential backoff; the last allowed attempt → copied to ``MONIQO_DLQ`` and
acked, so the consumer moves on. A job that finds its wallet gone or unusable records a ``failed`` log
(that is a result, not an error); only transient trouble is retried."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from faststream.nats import JStream, NatsBroker
from faststream.nats.annotations import NatsMessage
from nats.aio.client import Client

from balance_sync.domain.rules import post_trade_job, scheduled_key
from balance_sync.service import SyncService
from balance_sync.settings import SyncSettings
from contracts.base import Page
from contracts.events import Event
from contracts.replies import Reply
from contracts.subjects import EVENTS_STREAM, EventType, QueueGroup, Registry, Sync, event_filter
from contracts.sync import (
    ConsumerLag,
    GetStats,
    ListActiveWallets,
    ListSyncLogs,
    Maintenance,
    RunSync,
    Sweep,
    SyncJob,
    SyncStats,
    SyncStatus,
    SyncTrigger,
    WalletRef,
)
from servicekit.consumers import (
    ALL,
    consumer_config,
    dead_letter,
    durable_name,
    durable_subscriber,
    settle,
)
from servicekit.rpc import ok

QUEUE = QueueGroup.BALANCE_SYNC.value
EVENTS = JStream(EVENTS_STREAM, declare=False)
CONSUMERS = (
    "balance-sync-sweeps",
    "balance-sync-jobs",
    "balance-sync-post-trade",
    "balance-sync-maintenance",
)
log = structlog.get_logger("balance-sync")


async def publish_job(nc: Client, ns: str, job: SyncJob) -> None:
    js = nc.jetstream(timeout=5)
    await js.publish(
        Sync.job(ns, job.wallet_id), job.model_dump_json().encode(), headers={"Nats-Msg-Id": job.key}
    )


def register(
    broker: NatsBroker, service: SyncService, settings: SyncSettings, nc: Callable[[], Client]
) -> None:
    _commands(broker, service, settings, nc)
    _work_queue(broker, service, settings, nc)
    _event_consumers(broker, service, settings, nc)


def _commands(
    broker: NatsBroker, service: SyncService, settings: SyncSettings, nc: Callable[[], Client]
) -> None:
    workers = settings.request_workers
    prefix = settings.mongodb_db_prefix

    @broker.subscriber(Sync.RUN, queue=QUEUE, max_workers=workers)
    async def run_now(cmd: RunSync) -> Reply[Any]:
        result = await service.run(cmd.wallet_id, cmd.user_id, SyncTrigger.MANUAL)
        assert result is not None  # only a keyed job can find itself already done
        return ok(result)

    @broker.subscriber(Sync.LOGS, queue=QUEUE, max_workers=workers)
    async def logs(cmd: ListSyncLogs) -> Reply[Any]:
        return ok(await service.list_logs(cmd))

    @broker.subscriber(Sync.STATS, queue=QUEUE, max_workers=workers)
    async def stats(cmd: GetStats) -> Reply[Any]:
        return ok(await sync_stats(service, nc(), prefix))


def _work_queue(
    broker: NatsBroker, service: SyncService, settings: SyncSettings, nc: Callable[[], Client]
) -> None:
    """The sweep, the jobs and the daily maintenance on this deployment's ``MONIQO_SYNC_<PREFIX>``."""
    prefix = settings.mongodb_db_prefix
    sync_stream = JStream(Sync.stream(prefix), declare=False)

    @durable_subscriber(
        broker,
        Sync.sweep(prefix),
        stream=sync_stream,
        durable=durable_name(prefix, "balance-sync-sweeps"),
        batch_size=1,
        deliver_policy=ALL,
        config=consumer_config(ack_wait=120.0),
    )
    async def sweep(message: Sweep, msg: NatsMessage) -> None:
        """One window's sweep: one job per active wallet, deduplicated by ``<wallet>:<window>``."""
        await settle(msg, _sweep(message), nc=nc(), retry_base=settings.retry_base)

    async def _sweep(message: Sweep) -> None:
        await service.store.record_sweep(message.window, datetime.now(UTC))
        cursor: str | None = None
        jobs = 0
        while True:
            page = await service.bus.request(
                Registry.WALLETS_ACTIVE,
                ListActiveWallets(limit=settings.sweep_page_size, cursor=cursor),
                Page[WalletRef],
            )
            # A page's jobs are published side by side (JetStream acks each; one failure fails the sweep,
            # whose redelivery publishes again: the jobs' ids drop the ones already queued).
            await asyncio.gather(
                *(
                    publish_job(
                        nc(),
                        prefix,
                        SyncJob(
                            wallet_id=ref.wallet_id,
                            user_id=ref.user_id,
                            trigger=SyncTrigger.SCHEDULED,
                            key=scheduled_key(ref.wallet_id, message.window),
                        ),
                    )
                    for ref in page.items
                )
            )
            jobs += len(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        log.info("swept", window=message.window, jobs=jobs)

    @durable_subscriber(
        broker,
        Sync.jobs(prefix),
        stream=sync_stream,
        durable=durable_name(prefix, "balance-sync-jobs"),
        # A pull's jobs run side by side and their syncs share one pass (SyncService._sync_batch); two
        # pulls in flight, so the next batch is fetched while one is being written.
        batch_size=settings.sync_batch_size,
        deliver_policy=ALL,
        max_workers=2 * settings.sync_batch_size,
        config=consumer_config(
            settings.max_deliver,
            ack_wait=max(60.0, settings.wallet_timeout * 3),
        ),
    )
    async def job(job: SyncJob, msg: NatsMessage) -> None:
        now = datetime.now(UTC)
        if job.not_before is not None and now < job.not_before:
            await msg.nack(delay=(job.not_before - now).total_seconds())  # debounce: run after the burst
            return
        last_attempt = msg.raw_message.metadata.num_delivered >= settings.max_deliver
        work = _last_attempt(job, msg) if last_attempt else _attempt(job)
        await settle(msg, work, nc=nc(), max_deliver=settings.max_deliver, retry_base=settings.retry_base)

    async def _attempt(job: SyncJob) -> None:
        await service.run(job.wallet_id, job.user_id, job.trigger, key=job.key, retryable=True)

    async def _last_attempt(job: SyncJob, msg: NatsMessage) -> None:
        """Out of retries: record the failure as a ``failed`` log, and dead-letter the job for operators."""
        result = await service.run(job.wallet_id, job.user_id, job.trigger, key=job.key, retryable=False)
        if result is not None and result.status is SyncStatus.FAILED:
            attempts = msg.raw_message.metadata.num_delivered
            await dead_letter(nc(), msg, f"TransientSyncError after {attempts} attempts: {result.error}")

    @durable_subscriber(
        broker,
        Sync.maintenance(prefix),
        stream=sync_stream,
        durable=durable_name(prefix, "balance-sync-maintenance"),
        batch_size=1,
        deliver_policy=ALL,
        config=consumer_config(ack_wait=300.0),
    )
    async def maintenance(message: Maintenance, msg: NatsMessage) -> None:
        await settle(msg, service.maintenance(message.day), nc=nc())


def _event_consumers(
    broker: NatsBroker, service: SyncService, settings: SyncSettings, nc: Callable[[], Client]
) -> None:
    """What balance-sync learns from ``MONIQO_EVENTS``: fills, its own logs' history, deleted wallets."""
    prefix = settings.mongodb_db_prefix

    @durable_subscriber(
        broker,
        event_filter(EventType.TRADE_EXECUTED),
        stream=EVENTS,
        durable=durable_name(prefix, "balance-sync-post-trade"),
        batch_size=64,
    )
    async def post_trade(event: Event, msg: NatsMessage) -> None:
        """A fill asks for a sync of its wallet, debounced: a burst of fills shares one job."""
        key, not_before = post_trade_job(event.wallet_id, event.occurred_at, settings.post_trade_debounce)
        job = SyncJob(
            wallet_id=event.wallet_id,
            user_id=event.user_id,
            trigger=SyncTrigger.POST_TRADE,
            key=key,
            not_before=not_before,
        )
        await settle(msg, publish_job(nc(), prefix, job), nc=nc())

    @durable_subscriber(
        broker,
        event_filter(EventType.BALANCE_SYNCED),
        stream=EVENTS,
        durable=durable_name(prefix, "balance-sync-log-history"),
        batch_size=200,  # a pull's events are checked in one read (SyncService.project_log)
    )
    async def log_history(event: Event, msg: NatsMessage) -> None:
        """Sync logs rebuilt from their events: repairs a log lost between commit and log write."""
        if event.event_id.startswith("balance-sync:"):
            await settle(msg, service.project_log(event), nc=nc())
        else:
            await msg.ack()

    @durable_subscriber(
        broker,
        event_filter(EventType.WALLET_DELETED),
        stream=EVENTS,
        durable=durable_name(prefix, "balance-sync-wallets"),
        batch_size=16,
    )
    async def wallet_deleted(event: Event, msg: NatsMessage) -> None:
        work = service.store.remember_deleted(event.wallet_id, event.occurred_at)
        await settle(msg, work, nc=nc())


async def sync_stats(service: SyncService, nc: Client, prefix: str) -> SyncStats:
    jsm = nc.jsm()
    consumers = {}
    for name in CONSUMERS:
        stream = EVENTS_STREAM if name == "balance-sync-post-trade" else Sync.stream(prefix)
        info = await jsm.consumer_info(stream, durable_name(prefix, name))
        consumers[name] = ConsumerLag(
            pending=info.num_pending or 0,
            ack_pending=info.num_ack_pending or 0,
            redelivered=info.num_redelivered or 0,
        )
    dead = await jsm.stream_info(Sync.DLQ_STREAM)
    sweep = await service.store.last_sweep()
    return SyncStats(
        last_hour=await service.counts(timedelta(hours=1)),
        last_day=await service.counts(timedelta(days=1)),
        last_sweep_at=sweep["at"] if sweep else None,
        last_sweep_window=sweep["window"] if sweep else None,
        consumers=consumers,
        dead_letters=dead.state.messages,
    )
