"""One sync: registry gives the wallet (provider + credentials, internal bus only) → the wallet factory →
``BaseWallet.get_balance()`` → compare with the last snapshot → state + ``evt.balance.synced`` in one write
→ the sync log → relay. Failures become ``failed`` logs; transient ones on a job are retried first."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import structlog

import wallets.demo  # noqa: F401 - registers DemoWallet with the factory
from balance_sync.domain.rules import balance_changes, retention_cutoff
from balance_sync.metrics import SyncMetrics
from balance_sync.store import SyncStore
from contracts.base import Page
from contracts.errors import ErrorCode, ServiceError
from contracts.events import Event
from contracts.subjects import EventType, Registry
from contracts.sync import (
    GetConnector,
    ListSyncLogs,
    StatusCounts,
    SyncLog,
    SyncStatus,
    SyncTrigger,
    WalletConnector,
)
from servicekit import correlation
from servicekit.bus import ServiceBus
from servicekit.clock import now_ms
from wallets.errors import WalletError
from wallets.factory import create_wallet

log = structlog.get_logger("balance-sync")
Flush = Callable[[str], Awaitable[None]]
EVENT_ID_PREFIX = "balance-sync"
TRANSIENT_CODES = {ErrorCode.SERVICE_UNAVAILABLE, ErrorCode.SERVICE_TIMEOUT, ErrorCode.RATE_LIMITED}
MAX_ATTEMPTS = 10


class TransientSyncError(Exception):
    """The sync could not run now (a service or venue is unreachable); retry later."""


class SyncService:
    def __init__(
        self,
        store: SyncStore,
        bus: ServiceBus,
        flush: Flush,
        metrics: SyncMetrics,
        *,
        wallet_timeout: float,
    ) -> None:
        self.store = store
        self.bus = bus
        self._flush = flush
        self.metrics = metrics
        self.wallet_timeout = wallet_timeout

    async def fetch_balance(
        self, wallet_id: str, user_id: str
    ) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
        """The wallet's balance now, and the registry's last known one (the baseline of a first sync)."""
        connector = await self.bus.request(
            Registry.WALLETS_CONNECTOR, GetConnector(wallet_id=wallet_id, user_id=user_id), WalletConnector
        )
        wallet = create_wallet(
            connector.provider, connector.credentials, wallet_id=wallet_id, user_id=user_id, bus=self.bus
        )
        async with wallet:
            balances = await asyncio.wait_for(wallet.get_balance(), self.wallet_timeout)
        return {asset: b.total for asset, b in balances.balances.items()}, dict(connector.wallet.balance)

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
        fetches again). None when this job's key was already recorded (a redelivery after a lost ack)."""
        for _ in range(MAX_ATTEMPTS):
            state = await self.store.load_state(wallet_id)
            if key is not None and key in state.get("keys", []):
                return await self._already_done(wallet_id, key)
            started = time.perf_counter()
            try:
                snapshot, known, error = await self._fetch(wallet_id, user_id, retryable=retryable)
            except TransientSyncError:
                self.metrics.retried(trigger)
                raise
            duration_ms = round((time.perf_counter() - started) * 1000, 3)
            recorded = await self._record(state, user_id, trigger, key, snapshot, error, duration_ms, known)
            if recorded is not None:
                return recorded
        raise ServiceError(ErrorCode.CONCURRENT_MODIFICATION, "the wallet is being synced; try again")

    async def _fetch(
        self, wallet_id: str, user_id: str, *, retryable: bool
    ) -> tuple[dict[str, Decimal] | None, dict[str, Decimal], str | None]:
        try:
            snapshot, known = await self.fetch_balance(wallet_id, user_id)
        except (WalletError, ServiceError) as exc:
            transient = exc.transient if isinstance(exc, WalletError) else exc.code in TRANSIENT_CODES
            if retryable and transient:
                raise TransientSyncError(f"{exc.code.value}: {exc.detail}") from None
            return None, {}, f"{exc.code.value}: {exc.detail}"[:500]
        except TimeoutError:
            if retryable:
                raise TransientSyncError("the wallet did not answer in time") from None
            return None, {}, "service_timeout: the wallet did not answer in time"
        return snapshot, known, None

    async def _already_done(self, wallet_id: str, key: str) -> SyncLog | None:
        done = await self.store.find_log_by_key(wallet_id, key)
        if done is None:
            return None  # committed, its log still to come from the event (history consumer)
        done["id"] = done.pop("_id")
        return SyncLog.model_validate({k: v for k, v in done.items() if k in SyncLog.model_fields})

    async def _record(
        self,
        state: dict[str, object],
        user_id: str,
        trigger: SyncTrigger,
        key: str | None,
        snapshot: dict[str, Decimal] | None,
        error: str | None,
        duration_ms: float,
        known: dict[str, Decimal],
    ) -> SyncLog | None:
        """Commit the sync and its event on the state read; None if another sync committed first."""
        wallet_id = str(state["_id"])
        seq = int(str(state["seq"])) + 1
        now = now_ms()
        previous = state.get("snapshot")
        baseline = (
            previous if isinstance(previous, dict) else known
        )  # a first sync compares with the registry
        sync_log = SyncLog(
            id=f"{EVENT_ID_PREFIX}:{wallet_id}:{seq}",
            user_wallet_id=wallet_id,
            status=SyncStatus.FAILED if error else SyncStatus.SUCCESS,
            trigger=trigger,
            balance_snapshot=snapshot or {},
            balance_changes=balance_changes(baseline, snapshot) if snapshot is not None else {},
            sync_duration_ms=duration_ms,
            error=error,
            synced_at=now,
        )
        event = Event(
            event_id=sync_log.id,
            event_type=EventType.BALANCE_SYNCED,
            occurred_at=now,
            wallet_id=wallet_id,
            user_id=user_id,
            sequence=seq,
            correlation_id=key or correlation.current(),
            data=sync_log.model_dump(mode="json"),
        )
        if not await self.store.commit(state, snapshot=snapshot, key=key, event=event):
            return None
        self.metrics.recorded(sync_log.status, trigger, duration_ms)
        await self.store.save_log(sync_log, user_id=user_id, key=key, seq=seq)
        await self._flush(wallet_id)
        log.info("synced", wallet_id=wallet_id, trigger=trigger.value, status=sync_log.status.value)
        return sync_log

    async def project_log(self, event: Event) -> None:
        """History from ``evt.balance.synced``: repairs a log lost to a crash between commit and log write."""
        sync_log = SyncLog.model_validate(event.data)
        job_key = event.correlation_id  # a job's key, or the request id of a manual sync
        key = job_key if job_key and job_key.startswith(f"{event.wallet_id}:") else None
        await self.store.save_log(sync_log, user_id=event.user_id, key=key, seq=event.sequence)

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
