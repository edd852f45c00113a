"""Syncs, in batches: the jobs a consumer pull delivers together (and any sync requested meanwhile) are
served by one pass — one read of their sync states, one registry request for their connectors, one
balance read per wallet class (``BaseWallet.get_balances``: one exchange request for many demo wallets),
one bulk conditional write of states + ``evt.balance.synced``, one insert of the logs, one relay.

Per wallet nothing changes: the registry gives the wallet (provider + credentials, internal bus only) →
the wallet factory → the balance → compare with the last snapshot → state + event in one conditional
write → the sync log → relay. Failures become ``failed`` logs; transient ones on a job are retried first;
each sync's outcome is its own (one wallet failing never fails the others of its batch)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import cast

import structlog

import wallets.demo  # noqa: F401 - registers DemoWallet with the factory
from balance_sync.domain.rules import balance_changes, retention_cutoff
from balance_sync.metrics import SyncMetrics
from balance_sync.store import Commit, LogEntry, SyncStore
from contracts.base import MAX_BATCH, Page
from contracts.errors import ErrorCode, ServiceError
from contracts.events import Event
from contracts.orders import Balances
from contracts.subjects import EventType, Registry
from contracts.sync import (
    Connectors,
    GetConnector,
    GetConnectors,
    ListSyncLogs,
    StatusCounts,
    SyncLog,
    SyncStatus,
    SyncTrigger,
    WalletConnector,
    WalletRef,
)
from servicekit import correlation
from servicekit.bus import ServiceBus
from servicekit.clock import now_ms
from servicekit.coalesce import Coalescer, Outcome
from servicekit.mongo import Document
from servicekit.outbox import outbox_entry
from wallets.base import BaseWallet
from wallets.errors import WalletError
from wallets.factory import create_wallet

log = structlog.get_logger("balance-sync")
RelayMany = Callable[[list[tuple[str, list[Document]]]], Awaitable[None]]
"""Publishes each wallet's just-committed outbox entries, then pulls them (``OutboxRelay.relay_many``)."""
EVENT_ID_PREFIX = "balance-sync"
TRANSIENT_CODES = {ErrorCode.SERVICE_UNAVAILABLE, ErrorCode.SERVICE_TIMEOUT, ErrorCode.RATE_LIMITED}
MAX_ATTEMPTS = 10


class TransientSyncError(Exception):
    """The sync could not run now (a service or venue is unreachable); retry later."""


class Phases:
    """Milliseconds per step of a pass (logged with each batch: where a sweep's time goes)."""

    def __init__(self) -> None:
        self._last = time.perf_counter()
        self.ms: dict[str, float] = {}

    def mark(self, name: str) -> None:
        now = time.perf_counter()
        self.ms[name] = round((now - self._last) * 1000, 1)
        self._last = now


@dataclass(frozen=True)
class SyncRequest:
    wallet_id: str
    user_id: str
    trigger: SyncTrigger
    key: str | None
    retryable: bool
    correlation_id: str | None


@dataclass(frozen=True)
class Reading:
    """A fetched balance (``snapshot``) or why there is none (``error``), and the registry's last one."""

    snapshot: dict[str, Decimal] | None
    known: dict[str, Decimal]
    error: str | None
    duration_ms: float


class SyncService:
    def __init__(
        self,
        store: SyncStore,
        bus: ServiceBus,
        relay: RelayMany,
        metrics: SyncMetrics,
        *,
        wallet_timeout: float,
        batch_size: int = MAX_BATCH,
    ) -> None:
        self.store = store
        self.bus = bus
        self._relay = relay
        self.metrics = metrics
        self.wallet_timeout = wallet_timeout
        self._syncs = Coalescer(self._sync_batch, max_batch=min(batch_size, MAX_BATCH), concurrency=2)
        self._logs = Coalescer(self._project_logs, max_batch=MAX_BATCH)

    @property
    def passes(self) -> int:
        """Batches of syncs served so far (each: one state read, one bulk write, …)."""
        return self._syncs.batches

    async def run(
        self,
        wallet_id: str,
        user_id: str,
        trigger: SyncTrigger,
        *,
        key: str | None = None,
        retryable: bool = False,
    ) -> SyncLog | None:
        """Sync one wallet and record it; with ``retryable`` a transient failure raises instead of logging.

        The balance is fetched after reading the wallet's sync state and the write is conditional on that
        state, so of two overlapping syncs the later commit always carries the later reading (the loser
        fetches again). None when this job's key was already recorded (a redelivery after a lost ack).
        Syncs requested together share one pass (``_sync_batch``)."""
        request = SyncRequest(wallet_id, user_id, trigger, key, retryable, key or correlation.current())
        return cast("SyncLog | None", await self._syncs.submit(request))

    async def _sync_batch(self, requests: list[SyncRequest]) -> list[Outcome]:
        outcomes: dict[int, Outcome] = {}
        todo = list(range(len(requests)))
        for _ in range(MAX_ATTEMPTS):
            if not todo:
                break
            # One sync per wallet per pass: a second request for the same wallet waits for the next one.
            now: dict[str, int] = {}
            later: list[int] = []
            for i in todo:
                if requests[i].wallet_id in now:
                    later.append(i)
                else:
                    now[requests[i].wallet_id] = i
            try:
                lost = await self._pass([(i, requests[i]) for i in now.values()], outcomes)
            except Exception as exc:  # the store or the bus failed for the whole pass: each job retries
                for i in now.values():
                    outcomes[i] = exc
                lost = []
            todo = sorted([*lost, *later])
        for i in todo:
            outcomes[i] = ServiceError(
                ErrorCode.CONCURRENT_MODIFICATION, "the wallet is being synced; try again"
            )
        return [outcomes[i] for i in range(len(requests))]

    async def _pass(self, batch: list[tuple[int, SyncRequest]], outcomes: dict[int, Outcome]) -> list[int]:
        """One pass over distinct wallets; returns the indexes whose commit lost to another sync."""
        phases = Phases()
        states = await self.store.load_states([r.wallet_id for _, r in batch])
        phases.mark("load")
        fresh: list[tuple[int, SyncRequest]] = []
        for i, r in batch:
            if r.key is not None and r.key in states[r.wallet_id].get("keys", []):
                outcomes[i] = await self._already_done(r.wallet_id, r.key)
            else:
                fresh.append((i, r))
        readings = await self._fetch_many([r for _, r in fresh])
        phases.mark("fetch")
        commits: list[Commit] = []
        logs: list[tuple[int, SyncRequest, SyncLog, Event, Document]] = []
        for (i, r), reading in zip(fresh, readings, strict=True):
            if isinstance(reading, BaseException):
                if isinstance(reading, TransientSyncError):
                    self.metrics.retried(r.trigger)
                outcomes[i] = reading
                continue
            sync_log, event = self._sync_log(states[r.wallet_id], r, reading)
            entry = outbox_entry(event)  # serialised once: committed with the state, then relayed
            commits.append((states[r.wallet_id], reading.snapshot, r.key, event, entry))
            logs.append((i, r, sync_log, event, entry))
        committed = await self.store.commit_many(commits)
        phases.mark("commit")
        return await self._record(logs, committed, outcomes, phases)

    async def _record(
        self,
        logs: list[tuple[int, SyncRequest, SyncLog, Event, Document]],
        committed: list[bool | Exception],
        outcomes: dict[int, Outcome],
        phases: Phases,
    ) -> list[int]:
        """After the commits: metrics, the logs of those that won, their relay; the indexes that lost."""
        lost: list[int] = []
        written: list[tuple[int, LogEntry]] = []
        relay: list[tuple[str, list[Document]]] = []
        for (i, r, sync_log, event, entry), result in zip(logs, committed, strict=True):
            if result is False:
                lost.append(i)
            elif isinstance(result, Exception):
                outcomes[i] = result
            else:
                self.metrics.recorded(sync_log.status, r.trigger, sync_log.sync_duration_ms)
                written.append((i, (sync_log, r.user_id, r.key, event.sequence)))
                relay.append((r.wallet_id, [entry]))
                outcomes[i] = sync_log
        if not written:
            return lost
        try:
            await self.store.save_logs([entry for _, entry in written])
            phases.mark("logs")
        except Exception as exc:  # committed: a job's retry finds its key; the history writes the log
            for i, _ in written:
                outcomes[i] = exc
            return lost
        await self._relay(relay)
        phases.mark("relay")
        failed = sum(1 for _, e in written if e[0].error)
        log.info("synced", count=len(written), failed=failed, ms=phases.ms)
        for sync_log, *_ in (entry for _, entry in written if entry[0].error):
            log.warning("sync_failed", wallet_id=sync_log.user_wallet_id, error=sync_log.error)
        return lost

    def _sync_log(self, state: dict[str, object], r: SyncRequest, reading: Reading) -> tuple[SyncLog, Event]:
        wallet_id = str(state["_id"])
        seq = int(str(state["seq"])) + 1
        now = now_ms()
        previous = state.get("snapshot")
        baseline = previous if isinstance(previous, dict) else reading.known  # a first sync: the registry's
        snapshot = reading.snapshot
        sync_log = SyncLog(
            id=f"{EVENT_ID_PREFIX}:{wallet_id}:{seq}",
            user_wallet_id=wallet_id,
            status=SyncStatus.FAILED if reading.error else SyncStatus.SUCCESS,
            trigger=r.trigger,
            balance_snapshot=snapshot or {},
            balance_changes=balance_changes(baseline, snapshot) if snapshot is not None else {},
            sync_duration_ms=reading.duration_ms,
            error=reading.error,
            synced_at=now,
        )
        event = Event(
            event_id=sync_log.id,
            event_type=EventType.BALANCE_SYNCED,
            occurred_at=now,
            wallet_id=wallet_id,
            user_id=r.user_id,
            sequence=seq,
            correlation_id=r.correlation_id,
            data=sync_log.model_dump(mode="json"),
        )
        return sync_log, event

    # ---- fetching balances ----

    async def _fetch_many(self, requests: list[SyncRequest]) -> list[Reading | BaseException]:
        """Each wallet's balance now: one registry request for the connectors, one ``get_balances`` per
        wallet class, side by side. A refusal is a ``failed`` reading (or ``TransientSyncError`` for a
        retryable job when it may pass)."""
        if not requests:
            return []
        started = time.perf_counter()
        connectors = await self._connectors(requests)
        wallets: dict[int, BaseWallet] = {}
        failures: dict[int, BaseException] = {}
        for i, (r, c) in enumerate(zip(requests, connectors, strict=True)):
            if isinstance(c, BaseException):
                failures[i] = c
                continue
            try:
                wallets[i] = create_wallet(
                    c.provider, c.credentials, wallet_id=r.wallet_id, user_id=r.user_id, bus=self.bus
                )
            except Exception as exc:  # refused (a WalletError) or broken: this wallet fails alone
                failures[i] = exc
        by_class: dict[type[BaseWallet], list[int]] = {}
        for i, wallet in wallets.items():
            by_class.setdefault(type(wallet), []).append(i)
        answers = await asyncio.gather(
            *(
                cls.get_balances([wallets[i] for i in idx], self.wallet_timeout)
                for cls, idx in by_class.items()
            ),
            return_exceptions=True,
        )
        balances: dict[int, Balances | BaseException] = {}
        for idx, outcome in zip(by_class.values(), answers, strict=True):
            if isinstance(outcome, BaseException):  # a get_balances that broke: its wallets fail alone
                balances.update(dict.fromkeys(idx, outcome))
            else:
                balances.update(zip(idx, outcome, strict=True))
        duration_ms = round((time.perf_counter() - started) * 1000, 3)
        readings: list[Reading | BaseException] = []
        for i, r in enumerate(requests):
            got = failures.get(i) or balances[i]
            if isinstance(got, Balances):
                known = connectors[i]
                assert isinstance(known, WalletConnector)
                totals = {asset: b.total for asset, b in got.balances.items()}
                readings.append(Reading(totals, dict(known.wallet.balance), None, duration_ms))
            else:
                readings.append(_failed_reading(got, r.retryable, duration_ms))
        return readings

    async def _connectors(self, requests: list[SyncRequest]) -> list[WalletConnector | BaseException]:
        refs = [WalletRef(wallet_id=r.wallet_id, user_id=r.user_id) for r in requests]
        try:
            reply = await self.bus.request(
                Registry.WALLETS_CONNECTORS, GetConnectors(wallets=refs), Connectors
            )
        except ServiceError as refusal:
            if refusal.code is not ErrorCode.SERVICE_UNAVAILABLE:
                return [refusal] * len(refs)
            # No responders: a registry that predates the batched request (a rolling upgrade) or none at
            # all; one by one answers either way.
            return list(await asyncio.gather(*(self._connector(ref) for ref in refs), return_exceptions=True))
        found = {item.wallet_id: item for item in reply.items}
        out: list[WalletConnector | BaseException] = []
        for ref in refs:
            item = found.get(ref.wallet_id)
            if item is not None and item.connector is not None:
                out.append(item.connector)
            elif item is not None and item.error is not None:
                out.append(ServiceError.from_info(item.error))
            else:
                out.append(ServiceError(ErrorCode.INTERNAL_ERROR, "the registry left a wallet out"))
        return out

    async def _connector(self, ref: WalletRef) -> WalletConnector:
        cmd = GetConnector(wallet_id=ref.wallet_id, user_id=ref.user_id)
        return await self.bus.request(Registry.WALLETS_CONNECTOR, cmd, WalletConnector)

    async def _already_done(self, wallet_id: str, key: str) -> SyncLog | None:
        done = await self.store.find_log_by_key(wallet_id, key)
        if done is None:
            return None  # committed, its log still to come from the event (history consumer)
        done["id"] = done.pop("_id")
        return SyncLog.model_validate({k: v for k, v in done.items() if k in SyncLog.model_fields})

    async def project_log(self, event: Event) -> None:
        """History from ``evt.balance.synced``: repairs a log lost to a crash between commit and log write.
        The events a consumer pull delivers together are checked in one read; only missing logs are
        written (nearly always none: the sync wrote its log right after its commit)."""
        await self._logs.submit(event)

    async def _project_logs(self, events: list[Event]) -> list[Outcome]:
        existing = await self.store.existing_logs([e.event_id for e in events])
        missing: dict[str, LogEntry] = {}
        for event in events:
            if event.event_id in existing:
                continue
            sync_log = SyncLog.model_validate(event.data)
            job_key = event.correlation_id  # a job's key, or the request id of a manual sync
            key = job_key if job_key and job_key.startswith(f"{event.wallet_id}:") else None
            missing[event.event_id] = (sync_log, event.user_id, key, event.sequence)
        await self.store.save_logs(list(missing.values()))
        return [None] * len(events)

    async def list_logs(self, cmd: ListSyncLogs) -> Page[SyncLog]:
        docs, cursor = await self.store.list_logs(cmd.wallet_id, limit=cmd.limit, cursor=cmd.cursor)
        items = [
            SyncLog.model_validate(
                {**{k: v for k, v in d.items() if k in SyncLog.model_fields}, "id": d["_id"]}
            )
            for d in docs
        ]
        return Page[SyncLog](items=items, next_cursor=cursor)

    async def counts(self, since: timedelta) -> StatusCounts:
        cutoff = datetime.now(UTC) - since
        return StatusCounts(
            success=await self.store.count_logs(status=SyncStatus.SUCCESS.value, since=cutoff),
            failed=await self.store.count_logs(status=SyncStatus.FAILED.value, since=cutoff),
        )

    async def maintenance(self, day: str) -> tuple[int, int]:
        """Daily: logs of wallets deleted more than 30 days ago go (the TTL index handles the rest). The
        day's message is offered all day and deduplicated only within the stream's window, so the store
        decides: the first run of a day claims it, later offers of the same day do nothing."""
        if not await self.store.claim_maintenance_day(day):
            return 0, 0
        removed, wallets_gone = await self.store.purge_deleted_before(retention_cutoff(datetime.now(UTC)))
        log.info("maintenance", orphan_logs_removed=removed, deleted_wallets_forgotten=wallets_gone)
        return removed, wallets_gone


def _failed_reading(exc: BaseException, retryable: bool, duration_ms: float) -> Reading | BaseException:
    """A refusal or a timeout as a ``failed`` reading; ``TransientSyncError`` when a retry may pass."""
    if isinstance(exc, WalletError | ServiceError):
        transient = exc.transient if isinstance(exc, WalletError) else exc.code in TRANSIENT_CODES
        if retryable and transient:
            return TransientSyncError(f"{exc.code.value}: {exc.detail}")
        return Reading(None, {}, f"{exc.code.value}: {exc.detail}"[:500], duration_ms)
    if isinstance(exc, TimeoutError):
        if retryable:
            return TransientSyncError("the wallet did not answer in time")
        return Reading(None, {}, "service_timeout: the wallet did not answer in time", duration_ms)
    return exc  # unexpected: the job fails and is retried like any other error
