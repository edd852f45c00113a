"""demo-exchange settings (environment variables)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from contracts.values import Amount
from demo_exchange.domain.instruments import DEFAULT_INSTRUMENTS, Instrument
from servicekit.settings import ServiceSettings


class FeeRates(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    maker: Amount
    taker: Amount


class ExchangeSettings(ServiceSettings):
    mongodb_db: str | None = Field(default=None, description="override of <MONGODB_DB_PREFIX>_exchange")
    slippage: Amount = Field(default=Decimal("0.0001"), description="market executions only, e.g. 0.0001")
    maker_fee_rate: Amount = Field(default=Decimal("0.001"))
    taker_fee_rate: Amount = Field(default=Decimal("0.001"))
    fee_rates: dict[str, FeeRates] = Field(
        default_factory=dict,
        description='per-symbol JSON, e.g. {"BTC/USDT": {"maker": "0.0008", "taker": "0.001"}}',
    )
    account_cache_size: int = Field(
        default=1000,
        ge=0,
        description="accounts kept in memory after a write, so the next command skips a read (0: off)",
    )
    tick_workers: int = Field(default=1, ge=1, le=64, description="ticks handled at once per instance")

    @property
    def database_name(self) -> str:
        return self.mongodb_db or f"{self.mongodb_db_prefix}_exchange"

    def instruments(self) -> dict[str, Instrument]:
        out = {}
        for symbol, inst in DEFAULT_INSTRUMENTS.items():
            rates = self.fee_rates.get(symbol, FeeRates(maker=self.maker_fee_rate, taker=self.taker_fee_rate))
            out[symbol] = replace(inst, maker_fee_rate=rates.maker, taker_fee_rate=rates.taker)
        return out
