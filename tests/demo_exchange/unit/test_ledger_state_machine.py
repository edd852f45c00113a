"""A Hypothesis state machine over one wallet: random deposits, withdrawals, orders, ticks and cancels
never break ``total = free + locked``, never go negative, lock exactly what open orders hold, and
conserve value (per asset: Σ changes = deposits − withdrawals ± fills − fees)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from contracts.errors import ErrorCode, ServiceError
from contracts.orders import OrderCreate, OrderStatus, OrderType, Side, TimeInForce
from demo_exchange.domain.instruments import validate_order
from demo_exchange.domain.ledger import Ledger
from demo_exchange.domain.matching import Engine, Fill, Outcome, Quote
from demo_exchange.domain.money import ZERO
from demo_exchange.domain.orders import OrderState
from tests.demo_exchange.unit.factories import BTC, NOW, later

ENGINE = Engine()
prices = st.integers(min_value=5_000_000, max_value=8_000_000).map(lambda c: Decimal(c) / 100)  # 50k-80k
quantities = st.integers(min_value=10, max_value=5_000).map(lambda n: Decimal(n) * BTC.quantity_step)
amounts = st.integers(min_value=1, max_value=10**6).map(lambda c: Decimal(c) / 100)


def refused_for_funds(refusal: ServiceError) -> None:
    """The only acceptable refusal of a valid order or withdrawal is a lack of funds."""
    if refusal.code is not ErrorCode.INSUFFICIENT_FUNDS:
        raise refusal


class WalletMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ledger = Ledger()
        self.price = Decimal("65000")
        self.open: dict[str, OrderState] = {}
        self.expected: defaultdict[str, Decimal] = defaultdict(lambda: ZERO)
        self.seq = 0
        self.clock = 0

    def _now(self) -> datetime:
        self.clock += 1
        return later(self.clock)

    def _apply(self, outcome: Outcome) -> None:
        self.ledger = outcome.ledger
        if outcome.order.is_open:
            self.open[outcome.order.id] = outcome.order
        else:
            self.open.pop(outcome.order.id, None)
        for fill in outcome.fills:
            self._account(fill)

    def _account(self, fill: Fill) -> None:
        if fill.side is Side.BUY:
            self.expected[BTC.base] += fill.quantity
            self.expected[BTC.quote] -= fill.quote_amount + fill.fee_amount
        else:
            self.expected[BTC.base] -= fill.quantity
            self.expected[BTC.quote] += fill.quote_amount - fill.fee_amount

    @rule(asset=st.sampled_from(["USDT", "BTC"]), amount=amounts)
    def deposit(self, asset: str, amount: Decimal) -> None:
        self.ledger = self.ledger.credit(asset, amount)
        self.expected[asset] += amount

    @rule(asset=st.sampled_from(["USDT", "BTC"]), amount=amounts)
    def withdraw(self, asset: str, amount: Decimal) -> None:
        try:
            self.ledger = self.ledger.debit(asset, amount)
        except ServiceError as refusal:
            refused_for_funds(refusal)
            assert self.ledger.get(asset).free < amount
            return
        self.expected[asset] -= amount

    @rule(
        kind=st.sampled_from(list(OrderType)),
        side=st.sampled_from(list(Side)),
        quantity=quantities,
        limit=prices,
        stop=prices,
        tif=st.sampled_from(list(TimeInForce)),
    )
    def place(
        self, kind: OrderType, side: Side, quantity: Decimal, limit: Decimal, stop: Decimal, tif: TimeInForce
    ) -> None:
        req = OrderCreate(
            symbol=BTC.symbol,
            side=side,
            type=kind,
            quantity=quantity,
            price=limit if kind in {OrderType.LIMIT, OrderType.STOP_LIMIT} else None,
            stop_price=stop if kind in {OrderType.STOP, OrderType.STOP_LIMIT} else None,
            time_in_force=tif,
        )
        validate_order(req, BTC, self.price)
        self.seq += 1
        state = OrderState(
            id=f"o{self.seq}", client_order_id=f"c{self.seq}", wallet_id="w", symbol=BTC.symbol, side=side,
            type=kind, time_in_force=tif, quantity=quantity, price=req.price, stop_price=req.stop_price,
            status=OrderStatus.OPEN,
            created_at=NOW, updated_at=NOW,
        )  # fmt: skip
        before = self.ledger
        try:
            outcome = ENGINE.place(self.ledger, BTC, state, Quote(self.price, NOW, "t"), self._now())
        except ServiceError as refusal:
            refused_for_funds(refusal)
            assert self.ledger == before  # a rejection changes nothing
            return
        self._apply(outcome)

    @rule(price=prices)
    def tick(self, price: Decimal) -> None:
        self.price = price
        for order in list(self.open.values()):
            outcome = ENGINE.on_tick(self.ledger, BTC, order, Quote(price, NOW, "t"), self._now())
            if outcome is not None:
                self._apply(outcome)

    @precondition(lambda self: bool(self.open))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(sorted(self.open)))
        self._apply(ENGINE.cancel(self.ledger, self.open[order_id], self._now()))

    @invariant()
    def nothing_is_negative_and_total_is_free_plus_locked(self) -> None:
        for balance in self.ledger.balances.values():
            assert balance.free >= ZERO
            assert balance.locked >= ZERO
            assert balance.total == balance.free + balance.locked

    @invariant()
    def locked_equals_what_open_orders_hold(self) -> None:
        held: defaultdict[str, Decimal] = defaultdict(lambda: ZERO)
        for order in self.open.values():
            held[order.locked_asset] += order.locked_amount
        for asset in ("USDT", "BTC"):
            assert self.ledger.get(asset).locked == held[asset], asset

    @invariant()
    def value_is_conserved(self) -> None:
        for asset in ("USDT", "BTC"):
            assert self.ledger.get(asset).total == self.expected[asset], asset


WalletMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestWalletMachine = WalletMachine.TestCase
