"""balance-sync: sync logs, jobs, commands and statistics."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from contracts.base import MAX_BATCH, Model, PageRequest
from contracts.errors import ErrorInfo
from contracts.values import Asset, CredentialName, CredentialValue, SignedAmount, UserId, WalletId
from contracts.wallets import UserWallet, WalletDefinition


class SyncStatus(StrEnum):
    SUCCESS = "success"
    FAILED = "failed"


class SyncTrigger(StrEnum):
    MANUAL = "manual"
    SCHEDULED = "scheduled"
    POST_TRADE = "post_trade"


class SyncLog(Model):
    """One balance sync of one wallet (``GET .../sync-logs``, ``evt.balance.synced`` data)."""

    id: str
    user_wallet_id: WalletId
    status: SyncStatus
    trigger: SyncTrigger
    balance_snapshot: dict[Asset, SignedAmount]
    balance_changes: dict[Asset, SignedAmount]
    sync_duration_ms: float = Field(ge=0)
    error: str | None
    synced_at: datetime


class WalletRef(Model):
    wallet_id: WalletId
    user_id: UserId


class SyncJob(Model):
    """One wallet to sync, on the ``MONIQO_SYNC`` work queue (``sync.jobs.<wallet_id>``)."""

    wallet_id: WalletId
    user_id: UserId
    trigger: SyncTrigger
    key: str = Field(
        min_length=1, max_length=200, description="dedupe key: <wallet>:<window> or <wallet>:post:<bucket>"
    )
    not_before: datetime | None = Field(default=None, description="debounce: run no earlier than this")


class Sweep(Model):
    """The timer's tick for one window (``sync.sweep``), published by every instance, kept once."""

    window: int = Field(ge=0)
    interval_seconds: float = Field(gt=0)


class Maintenance(Model):
    day: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")


class RunSync(Model):
    """gateway → balance-sync: a manual, synchronous sync (the caller owns the wallet: checked upstream)."""

    wallet_id: WalletId
    user_id: UserId


class ListSyncLogs(PageRequest):
    wallet_id: WalletId
    user_id: UserId


class StatusCounts(Model):
    success: int = 0
    failed: int = 0


class ConsumerLag(Model):
    pending: int
    ack_pending: int
    redelivered: int


class SyncStats(Model):
    last_hour: StatusCounts
    last_day: StatusCounts
    last_sweep_at: datetime | None
    last_sweep_window: int | None
    consumers: dict[str, ConsumerLag]
    dead_letters: int


class GetStats(Model):
    pass


# ---- registry internals used by balance-sync (internal bus only) ----


class ListActiveWallets(PageRequest):
    """Every user's active, non-deleted wallets, for the sweep (paged by wallet id)."""


class GetConnector(Model):
    wallet_id: WalletId
    user_id: UserId


class WalletConnector(Model):
    """What a sync needs to build the wallet: provider and decrypted credentials (never leaves the bus)."""

    wallet: UserWallet
    provider: WalletDefinition
    credentials: dict[CredentialName, CredentialValue]


class GetConnectors(Model):
    """Many wallets' connectors in one request (a batch of sync jobs)."""

    wallets: list[WalletRef] = Field(min_length=1, max_length=MAX_BATCH)


class ConnectorResult(Model):
    """One wallet's connector, or why there is none (the refusal ``GetConnector`` would have replied)."""

    wallet_id: WalletId
    connector: WalletConnector | None = None
    error: ErrorInfo | None = None


class Connectors(Model):
    items: list[ConnectorResult]
