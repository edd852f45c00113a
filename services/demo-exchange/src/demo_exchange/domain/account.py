"""A demo account: the wallet's ledger, its open orders and what it remembers for idempotency.

Every command turns an ``Account`` into a new one plus the orders and fills it changed; the events
those cause are built here too, numbered with the account's own gapless sequence.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from contracts.errors import ErrorCode, ServiceError
from contracts.events import Event
from contracts.orders import AssetBalance, BalanceChanged, OrderCreate, OrderStatus, OrderType, Side
from contracts.subjects import EventType
from contracts.wallets import RiskLimits
from demo_exchange.domain.instruments import Instrument, validate_order
from demo_exchange.domain.ledger import Ledger
from demo_exchange.domain.matching import Engine, Fill, Outcome, Quote
from demo_exchange.domain.money import EXACT, ZERO, round8
from demo_exchange.domain.orders import OrderState
from demo_exchange.domain.risk import check_risk

EVENT_ID_PREFIX = "demo-exchange"
RECENT_CLIENT_IDS = 500
MAX_OPEN_ORDERS = 500  # whatever a wallet's own limit says: keeps the account document well under 16 MB


class AccountStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


@dataclass(frozen=True)
class RecentOrder:
    """A client_order_id the account accepted, with the fingerprint of its request."""

    client_order_id: str
    order_id: str
    fingerprint: str


@dataclass(frozen=True)
class Account:
    wallet_id: str
    user_id: str
    ledger: Ledger
    created_at: datetime
    updated_at: datetime
    status: AccountStatus = AccountStatus.ACTIVE
    is_active: bool = True
    risk_limits: RiskLimits = field(default_factory=RiskLimits)
    registry_sequence: int = 0
    open_orders: dict[str, OrderState] = field(default_factory=dict)
    recent: tuple[RecentOrder, ...] = ()
    version: int = 0
    event_seq: int = 0
    # Money that entered or left from outside (opening balances, deposits, withdrawals; a reset starts
    # afresh): with the trades since ``funded_since`` it must add up to the ledger (see ``audit``).
    # None for an account stored before this was kept: it cannot be audited.
    funding: Mapping[str, Decimal] | None = None
    funded_since: int = 0

    def recent_by_client_id(self, client_order_id: str) -> RecentOrder | None:
        return next((r for r in self.recent if r.client_order_id == client_order_id), None)

    def find_open(self, ref: str) -> OrderState | None:
        if ref in self.open_orders:
            return self.open_orders[ref]
        return next((o for o in self.open_orders.values() if o.client_order_id == ref), None)


@dataclass(frozen=True)
class Change:
    """What one command or tick did: the new account, the orders it changed, the fills it made."""

    account: Account
    orders: tuple[OrderState, ...] = ()
    fills: tuple[Fill, ...] = ()
    balance_changes: dict[str, Decimal] = field(default_factory=dict)
    ledger_moved: bool = False  # free or locked changed (even when no total did)

    @property
    def changed(self) -> bool:
        return bool(self.orders or self.fills or self.ledger_moved)


def request_fingerprint(request: OrderCreate) -> str:
    shape = request.model_dump(mode="json", exclude={"client_order_id"})
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()


def ensure_tradable(account: Account) -> None:
    if account.status is AccountStatus.CLOSED:
        raise ServiceError(ErrorCode.WALLET_NOT_FOUND, f"wallet {account.wallet_id} not found")
    if not account.is_active:
        raise ServiceError(ErrorCode.NOT_SUPPORTED, "this wallet is deactivated: activate it to trade")


def _apply_outcomes(account: Account, outcomes: list[Outcome], now: datetime) -> Change:
    if not outcomes:
        return Change(account)
    before = account.ledger
    open_orders = dict(account.open_orders)
    for outcome in outcomes:
        if outcome.order.is_open:
            open_orders[outcome.order.id] = outcome.order
        else:
            open_orders.pop(outcome.order.id, None)
    ledger = outcomes[-1].ledger
    new = replace(account, ledger=ledger, open_orders=open_orders, updated_at=now)
    fills = tuple(f for o in outcomes for f in o.fills)
    return Change(new, tuple(o.order for o in outcomes), fills, ledger.changes_from(before), ledger != before)


def place_order(
    account: Account,
    engine: Engine,
    instrument: Instrument,
    request: OrderCreate,
    *,
    order_id: str,
    client_order_id: str,
    quote: Quote | None,
    now: datetime,
) -> Change:
    """Validate, check risk, then let the engine fill, rest or expire the order. Raises on rejection."""
    ensure_tradable(account)
    validate_order(request, instrument, quote.price if quote else None)
    reference = {
        OrderType.MARKET: quote.price if quote else None,
        OrderType.LIMIT: request.price,
        OrderType.STOP: request.stop_price,
        OrderType.STOP_LIMIT: request.price,
    }[request.type]
    assert reference is not None
    if len(account.open_orders) >= MAX_OPEN_ORDERS:
        raise ServiceError(
            ErrorCode.RISK_LIMIT_EXCEEDED,
            f"max_open_orders: the server allows {MAX_OPEN_ORDERS} open orders per wallet",
        )
    check_risk(account.risk_limits, request, request.quantity * reference, len(account.open_orders))
    order = OrderState(
        id=order_id,
        client_order_id=client_order_id,
        wallet_id=account.wallet_id,
        symbol=request.symbol,
        side=request.side,
        type=request.type,
        time_in_force=request.time_in_force,
        quantity=request.quantity,
        price=request.price,
        stop_price=request.stop_price,
        status=OrderStatus.OPEN,
        created_at=now,
        updated_at=now,
        fee_asset=instrument.quote,
        locked_asset=instrument.quote if request.side is Side.BUY else instrument.base,
    )
    outcome = engine.place(account.ledger, instrument, order, quote, now)
    change = _apply_outcomes(account, [outcome], now)
    remembered = (*account.recent, RecentOrder(client_order_id, order_id, request_fingerprint(request)))
    return replace(change, account=replace(change.account, recent=remembered[-RECENT_CLIENT_IDS:]))


def cancel_order(account: Account, engine: Engine, order: OrderState, now: datetime) -> Change:
    return _apply_outcomes(account, [engine.cancel(account.ledger, order, now)], now)


def apply_tick(
    account: Account, engine: Engine, instrument: Instrument, quote: Quote, now: datetime
) -> Change:
    """Wake every resting order of this symbol the quote concerns, oldest first."""
    outcomes: list[Outcome] = []
    ledger = account.ledger
    resting = sorted(
        (o for o in account.open_orders.values() if o.symbol == instrument.symbol),
        key=lambda o: (o.created_at, o.id),
    )
    for order in resting:
        outcome = engine.on_tick(ledger, instrument, order, quote, now)
        if outcome is not None:
            outcomes.append(outcome)
            ledger = outcome.ledger
    return _apply_outcomes(account, outcomes, now)


def reset_account(account: Account, engine: Engine, balances: dict[str, Decimal], now: datetime) -> Change:
    """Cancel every open order, then set the balances (history and credentials stay)."""
    canceled: list[OrderState] = []
    ledger = account.ledger
    for order in sorted(account.open_orders.values(), key=lambda o: (o.created_at, o.id)):
        outcome = engine.cancel(ledger, order, now, reason="reset")
        ledger = outcome.ledger
        canceled.append(outcome.order)
    for amount in balances.values():
        if amount != round8(amount):
            raise ServiceError(ErrorCode.VALIDATION_ERROR, "balances have at most 8 decimals")
    fresh = Ledger.of(balances)
    new = replace(
        account,
        ledger=fresh,
        open_orders={},
        updated_at=now,
        funding=dict(balances),
        funded_since=account.event_seq,
    )
    return Change(new, tuple(canceled), (), fresh.changes_from(account.ledger), fresh != account.ledger)


def deposit(account: Account, asset: str, amount: Decimal, now: datetime) -> Change:
    ensure_tradable(account)
    check_funds_amount(amount)
    return _funds_moved(account, account.ledger.credit(asset, amount), now, asset, amount)


def withdraw(account: Account, asset: str, amount: Decimal, now: datetime) -> Change:
    ensure_tradable(account)
    check_funds_amount(amount)
    return _funds_moved(account, account.ledger.debit(asset, amount), now, asset, -amount)


def check_funds_amount(amount: Decimal) -> None:
    """Balances are kept to 8 decimals (CONTRACT.md): finer amounts would be rounded away, so refuse them."""
    if amount <= 0 or amount != round8(amount):
        raise ServiceError(
            ErrorCode.VALIDATION_ERROR, "amount must be greater than 0 with at most 8 decimals"
        )


def _funds_moved(account: Account, ledger: Ledger, now: datetime, asset: str, amount: Decimal) -> Change:
    changes = ledger.changes_from(account.ledger)
    funding = account.funding
    if funding is not None:
        funding = {**funding, asset: EXACT.add(funding.get(asset, ZERO), amount)}
    new = replace(account, ledger=ledger, updated_at=now, funding=funding)
    return Change(new, balance_changes=changes, ledger_moved=True)


def close_account(account: Account, engine: Engine, now: datetime) -> Change:
    """The wallet was deleted: cancel its open orders (releasing their funds) and close the account."""
    outcomes: list[Outcome] = []
    ledger = account.ledger
    for order in sorted(account.open_orders.values(), key=lambda o: (o.created_at, o.id)):
        outcome = engine.cancel(ledger, order, now, reason="wallet_deleted")
        ledger = outcome.ledger
        outcomes.append(outcome)
    change = _apply_outcomes(account, outcomes, now)
    closed = replace(change.account, status=AccountStatus.CLOSED, is_active=False, updated_at=now)
    return replace(change, account=closed)


def balances_view(ledger: Ledger) -> dict[str, AssetBalance]:
    return {
        asset: AssetBalance(free=b.free, locked=b.locked, total=b.total)
        for asset, b in sorted(ledger.balances.items())
    }


def build_events(change: Change, now: datetime, correlation_id: str | None) -> tuple[Account, list[Event]]:
    """Number the change's events with the account's sequence: orders, then trades, then balances."""
    account = change.account
    seq = account.event_seq
    events: list[Event] = []

    def add(event_type: EventType, data: object) -> None:
        nonlocal seq
        seq += 1
        events.append(
            Event(
                event_id=f"{EVENT_ID_PREFIX}:{account.wallet_id}:{seq}",
                event_type=event_type,
                occurred_at=now,
                wallet_id=account.wallet_id,
                user_id=account.user_id,
                sequence=seq,
                correlation_id=correlation_id,
                data=data,  # type: ignore[arg-type]
            )
        )

    for order in change.orders:
        add(EventType.ORDER_UPDATED, order.public().model_dump(mode="json"))
    for fill in change.fills:
        add(EventType.TRADE_EXECUTED, fill.public().model_dump(mode="json"))
    if change.ledger_moved:
        data = BalanceChanged(balances=balances_view(account.ledger), changes=change.balance_changes)
        add(EventType.BALANCE_CHANGED, data.model_dump(mode="json"))
    return replace(account, event_seq=seq), events
