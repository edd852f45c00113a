"""Money conservation for one demo account, from its own records.

What entered from outside (``funding``: opening balances, deposits, withdrawals, the last reset) plus what
the trades since then moved must equal the ledger, per asset and to the last digit; what is locked must be
exactly what the open orders hold; an order has at most one fill and that fill matches the order.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from contracts.orders import Side
from demo_exchange.domain.account import Account
from demo_exchange.domain.matching import Fill
from demo_exchange.domain.money import EXACT, ZERO


@dataclass(frozen=True)
class TradeLine:
    """A trade as the history keeps it (``demo_trades``)."""

    id: str
    order_id: str
    seq: int
    symbol: str
    side: Side
    quantity: Decimal
    quote_amount: Decimal
    fee_asset: str
    fee_amount: Decimal

    @classmethod
    def of(cls, fill: Fill, seq: int) -> TradeLine:
        return cls(
            fill.id,
            fill.order_id,
            seq,
            fill.symbol,
            fill.side,
            fill.quantity,
            fill.quote_amount,
            fill.fee_asset,
            fill.fee_amount,
        )

    def deltas(self) -> dict[str, Decimal]:
        """What this trade did to each asset's total (the fee is paid in ``fee_asset``)."""
        base, quote = self.symbol.split("/")
        sign = 1 if self.side is Side.BUY else -1
        moved: dict[str, Decimal] = defaultdict(lambda: ZERO)
        moved[base] = EXACT.add(moved[base], sign * self.quantity)
        moved[quote] = EXACT.subtract(moved[quote], sign * self.quote_amount)
        moved[self.fee_asset] = EXACT.subtract(moved[self.fee_asset], self.fee_amount)
        return dict(moved)


@dataclass(frozen=True)
class AssetLine:
    asset: str
    funded: Decimal
    traded: Decimal  # net effect of the trades since funding, fees included
    fees: Decimal
    expected: Decimal  # funded + traded
    free: Decimal
    locked: Decimal
    locked_by_orders: Decimal

    @property
    def total(self) -> Decimal:
        return EXACT.add(self.free, self.locked)

    @property
    def ok(self) -> bool:
        return (
            self.total == self.expected
            and self.locked == self.locked_by_orders
            and self.free >= ZERO
            and self.locked >= ZERO
        )


@dataclass(frozen=True)
class AccountAudit:
    wallet_id: str
    assets: tuple[AssetLine, ...] = ()
    trades: int = 0
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems


def audit_account(account: Account, trades: Iterable[TradeLine]) -> AccountAudit:
    """Reconcile ``account`` with every trade of its wallet (older trades than the funding are skipped)."""
    if account.funding is None:
        return AccountAudit(account.wallet_id, problems=("no funding record (stored by an older version)",))
    history = list(trades)
    problems = _fill_problems(history)
    counted = [t for t in history if t.seq > account.funded_since]
    traded: dict[str, Decimal] = defaultdict(lambda: ZERO)
    fees: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for trade in counted:
        for asset, delta in trade.deltas().items():
            traded[asset] = EXACT.add(traded[asset], delta)
        fees[trade.fee_asset] = EXACT.add(fees[trade.fee_asset], trade.fee_amount)
    locks = _locks(account)
    lines = []
    assets = sorted(set(account.funding) | set(traded) | set(account.ledger.balances) | set(locks))
    for asset in assets:
        balance = account.ledger.get(asset)
        funded = account.funding.get(asset, ZERO)
        line = AssetLine(
            asset=asset,
            funded=funded,
            traded=traded.get(asset, ZERO),
            fees=fees.get(asset, ZERO),
            expected=EXACT.add(funded, traded.get(asset, ZERO)),
            free=balance.free,
            locked=balance.locked,
            locked_by_orders=locks.get(asset, ZERO),
        )
        lines.append(line)
        problems += _asset_problems(line)
    return AccountAudit(account.wallet_id, tuple(lines), len(counted), tuple(problems))


def _locks(account: Account) -> Mapping[str, Decimal]:
    locks: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for order in account.open_orders.values():
        locks[order.locked_asset] = EXACT.add(locks[order.locked_asset], order.locked_amount)
    return locks


def _asset_problems(line: AssetLine) -> list[str]:
    problems = []
    if line.total != line.expected:
        problems.append(
            f"{line.asset}: total {line.total} != funded {line.funded} + traded {line.traded}"
            f" = {line.expected}"
        )
    if line.locked != line.locked_by_orders:
        problems.append(f"{line.asset}: locked {line.locked} != {line.locked_by_orders} held by open orders")
    if line.free < ZERO or line.locked < ZERO:
        problems.append(f"{line.asset}: negative balance (free {line.free}, locked {line.locked})")
    return problems


def _fill_problems(history: list[TradeLine]) -> list[str]:
    per_order = Counter(t.order_id for t in history)
    per_id = Counter(t.id for t in history)
    problems = [f"order {o} has {n} fills" for o, n in sorted(per_order.items()) if n > 1]
    problems += [f"trade {t} recorded {n} times" for t, n in sorted(per_id.items()) if n > 1]
    return problems
