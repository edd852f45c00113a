"""balance-sync settings (environment variables)."""

from __future__ import annotations

from pydantic import Field

from servicekit.settings import ServiceSettings


class SyncSettings(ServiceSettings):
    mongodb_db: str | None = Field(default=None, description="override of <MONGODB_DB_PREFIX>_sync")
    sync_interval: float = Field(
        default=300.0, gt=0, description="seconds between scheduled syncs of every wallet"
    )
    timer_tick: float | None = Field(
        default=None, gt=0, description="how often each instance offers the sweep"
    )
    post_trade_debounce: float = Field(
        default=2.0, gt=0, description="fills within this many seconds share a sync"
    )
    max_deliver: int = Field(
        default=5, ge=1, le=100, description="attempts before a job goes to the dead-letter stream"
    )
    retry_base: float = Field(default=0.5, gt=0, description="first retry delay (doubles each attempt)")
    sweep_page_size: int = Field(default=200, ge=1, le=200)
    sync_batch_size: int = Field(
        default=100,
        ge=1,
        le=200,
        description="sync jobs served together: one state read, registry request, balance read per "
        "wallet class, bulk write, log insert and relay for the batch",
    )
    wallet_timeout: float = Field(default=10.0, gt=0, description="seconds a wallet connector may take")

    @property
    def database_name(self) -> str:
        return self.mongodb_db or f"{self.mongodb_db_prefix}_sync"

    @property
    def tick(self) -> float:
        return self.timer_tick or max(0.2, min(5.0, self.sync_interval / 4))
