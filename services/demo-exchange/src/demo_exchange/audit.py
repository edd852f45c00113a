"""Audit every demo account of a deployment against its trade history (``moniqo audit``, the tests).

Reads ``<prefix>_exchange`` directly, account by account. A trade committed but not yet relayed is still
in its account's outbox and not yet in ``demo_trades``: both sources are read and merged by trade id, so a
live system audits cleanly while its relay catches up.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from pymongo.asynchronous.database import AsyncDatabase

from contracts.events import Event
from contracts.orders import Side, Trade
from contracts.subjects import EventType, event_prefix
from demo_exchange.domain.audit import AccountAudit, TradeLine, audit_account
from demo_exchange.domain.money import EXACT, ZERO
from demo_exchange.projector import fill_of
from demo_exchange.store import ExchangeStore, account_from_doc
from servicekit.mongo import Document
from servicekit.outbox import OUTBOX_FIELD


@dataclass
class AssetTotals:
    funded: Decimal = ZERO
    traded: Decimal = ZERO
    fees: Decimal = ZERO
    free: Decimal = ZERO
    locked: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return EXACT.add(self.free, self.locked)


@dataclass
class AuditReport:
    accounts: list[AccountAudit] = field(default_factory=list)
    totals: dict[str, AssetTotals] = field(default_factory=lambda: defaultdict(AssetTotals))
    pending_trades: int = 0  # trades read from an outbox (committed, not yet in demo_trades)

    @property
    def failed(self) -> list[AccountAudit]:
        return [a for a in self.accounts if not a.ok]

    @property
    def trades(self) -> int:
        return sum(a.trades for a in self.accounts)

    def add(self, audit: AccountAudit) -> None:
        self.accounts.append(audit)
        for line in audit.assets:
            t = self.totals[line.asset]
            t.funded = EXACT.add(t.funded, line.funded)
            t.traded = EXACT.add(t.traded, line.traded)
            t.fees = EXACT.add(t.fees, line.fees)
            t.free = EXACT.add(t.free, line.free)
            t.locked = EXACT.add(t.locked, line.locked)


def _line_from_doc(doc: Document) -> TradeLine:
    return TradeLine(
        id=doc["_id"],
        order_id=doc["order_id"],
        seq=doc["seq"],
        symbol=doc["symbol"],
        side=Side(doc["side"]),
        quantity=doc["quantity"],
        quote_amount=doc["quote_amount"],
        fee_asset=doc["fee_asset"],
        fee_amount=doc["fee_amount"],
    )


def _pending_lines(state: Document) -> list[TradeLine]:
    lines = []
    for entry in state.get(OUTBOX_FIELD) or []:
        if entry["subject"].startswith(event_prefix(EventType.TRADE_EXECUTED)):
            event = Event.model_validate_json(entry["payload"])
            lines.append(TradeLine.of(fill_of(Trade.model_validate(event.data)), event.sequence))
    return lines


async def audit_exchange(
    db: AsyncDatabase[Document], *, progress: Callable[[], None] | None = None
) -> AuditReport:
    store = ExchangeStore(db)
    report = AuditReport()
    async for state in store.state.find({}).sort("_id", 1):
        projected = [_line_from_doc(d) async for d in store.trades.find({"wallet_id": state["_id"]})]
        known = {t.id for t in projected}
        pending = [t for t in _pending_lines(state) if t.id not in known]
        report.pending_trades += len(pending)
        report.add(audit_account(account_from_doc(state), projected + pending))
        if progress is not None:
            progress()
    return report
