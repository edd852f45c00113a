"""A wallet's balances per asset: ``free`` and ``locked``; ``total = free + locked``; nothing negative."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from contracts.errors import ErrorCode, ServiceError
from demo_exchange.domain.money import EXACT, ZERO


@dataclass(frozen=True)
class Balance:
    free: Decimal = ZERO
    locked: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return EXACT.add(self.free, self.locked)


def insufficient(asset: str, needed: Decimal, available: Decimal) -> ServiceError:
    return ServiceError(
        ErrorCode.INSUFFICIENT_FUNDS, f"needs {needed} {asset} free, {available} {asset} available"
    )


@dataclass(frozen=True)
class Ledger:
    balances: Mapping[str, Balance] = field(default_factory=dict)

    @classmethod
    def of(cls, amounts: Mapping[str, Decimal]) -> Ledger:
        if any(v < ZERO for v in amounts.values()):
            raise ServiceError(ErrorCode.VALIDATION_ERROR, "balances cannot be negative")
        return cls({asset: Balance(free=v) for asset, v in amounts.items()})

    def get(self, asset: str) -> Balance:
        return self.balances.get(asset, Balance())

    def _with(self, asset: str, balance: Balance) -> Ledger:
        assert balance.free >= ZERO, (asset, balance)
        assert balance.locked >= ZERO, (asset, balance)
        return Ledger({**self.balances, asset: balance})

    def credit(self, asset: str, amount: Decimal) -> Ledger:
        b = self.get(asset)
        return self._with(asset, Balance(EXACT.add(b.free, amount), b.locked))

    def debit(self, asset: str, amount: Decimal) -> Ledger:
        b = self.get(asset)
        if b.free < amount:
            raise insufficient(asset, amount, b.free)
        return self._with(asset, Balance(EXACT.subtract(b.free, amount), b.locked))

    def lock(self, asset: str, amount: Decimal) -> Ledger:
        b = self.get(asset)
        if b.free < amount:
            raise insufficient(asset, amount, b.free)
        return self._with(asset, Balance(EXACT.subtract(b.free, amount), EXACT.add(b.locked, amount)))

    def release(self, asset: str, amount: Decimal) -> Ledger:
        b = self.get(asset)
        assert b.locked >= amount, f"releasing {amount} {asset} but only {b.locked} locked"
        return self._with(asset, Balance(EXACT.add(b.free, amount), EXACT.subtract(b.locked, amount)))

    def consume(self, asset: str, amount: Decimal) -> Ledger:
        """Spend locked funds (a fill paid from what its order locked)."""
        b = self.get(asset)
        assert b.locked >= amount, f"consuming {amount} {asset} but only {b.locked} locked"
        return self._with(asset, Balance(b.free, EXACT.subtract(b.locked, amount)))

    def changes_from(self, before: Ledger) -> dict[str, Decimal]:
        """Per-asset change of total since ``before`` (zero changes omitted)."""
        assets = set(self.balances) | set(before.balances)
        deltas = {a: EXACT.subtract(self.get(a).total, before.get(a).total) for a in assets}
        return {a: d for a, d in sorted(deltas.items()) if d != ZERO}
