"""Matching: placing, triggering and canceling orders against a quote, with fees and slippage.

Paper trading has no order book: liquidity is unlimited at the quoted price, so an order fills
completely or not at all (``ioc`` and ``fok`` behave the same) and every order has at most one fill.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from contracts.errors import ErrorCode, ServiceError
from contracts.orders import (
    AssetAmount,
    Liquidity,
    OrderStatus,
    OrderType,
    QuoteRef,
    Side,
    TimeInForce,
    Trade,
)
from demo_exchange.domain.instruments import Instrument
from demo_exchange.domain.ledger import Ledger
from demo_exchange.domain.money import ZERO, round8
from demo_exchange.domain.orders import Direction, OrderState, triggered

DEFAULT_SLIPPAGE = Decimal("0.0001")


@dataclass(frozen=True)
class Quote:
    price: Decimal
    ts: datetime
    source: str


@dataclass(frozen=True)
class Fill:
    id: str
    order_id: str
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    quote_amount: Decimal
    fee_asset: str
    fee_amount: Decimal
    liquidity: Liquidity
    quote: Quote
    executed_at: datetime

    def public(self) -> Trade:
        return Trade(
            id=self.id,
            order_id=self.order_id,
            symbol=self.symbol,
            side=self.side,
            quantity=self.quantity,
            price=self.price,
            quote_amount=self.quote_amount,
            fee=AssetAmount(asset=self.fee_asset, amount=self.fee_amount),
            liquidity=self.liquidity,
            quote=QuoteRef(price=self.quote.price, ts=self.quote.ts, source=self.quote.source),
            executed_at=self.executed_at,
        )


@dataclass(frozen=True)
class Outcome:
    """The wallet's ledger and the order after a command or a tick, with the fill it caused (if any)."""

    ledger: Ledger
    order: OrderState
    fills: tuple[Fill, ...] = ()


@dataclass(frozen=True)
class Engine:
    """Fee and slippage parameters are the instrument's and the engine's; everything else is the order's."""

    slippage: Decimal = DEFAULT_SLIPPAGE

    # ---- placement ----

    def place(
        self, ledger: Ledger, instrument: Instrument, order: OrderState, quote: Quote | None, now: datetime
    ) -> Outcome:
        """Accept an already validated order: fill, rest (locking funds) or expire. Raises on rejection."""
        if order.type is OrderType.MARKET:
            assert quote is not None, "validate_order requires a price for market orders"
            return self._market(ledger, instrument, order, quote, now, from_lock=False)
        if order.type is OrderType.LIMIT:
            return self._limit_now(ledger, instrument, order, quote, now, from_lock=False)
        assert order.stop_price is not None
        direction = stop_direction(order.side)
        if quote is not None and triggered(direction, order.stop_price, quote.price):
            # Already past the stop when placed: it triggers at once on the current quote.
            if order.type is OrderType.STOP:
                return self._market(ledger, instrument, order, quote, now, from_lock=False, triggered_at=now)
            return self._limit_now(
                ledger, instrument, replace(order, triggered_at=now), quote, now, from_lock=False
            )
        return self._rest(ledger, instrument, order)

    def _limit_now(
        self,
        ledger: Ledger,
        instrument: Instrument,
        order: OrderState,
        quote: Quote | None,
        now: datetime,
        *,
        from_lock: bool,
    ) -> Outcome:
        if quote is not None and marketable(order, quote.price):
            return self._fill(
                ledger, instrument, order, quote.price, Liquidity.TAKER, quote, now, from_lock=from_lock
            )
        if order.time_in_force in {TimeInForce.IOC, TimeInForce.FOK}:
            if from_lock:
                ledger = ledger.release(order.locked_asset, order.locked_amount)
            return Outcome(
                ledger,
                order.transition(OrderStatus.EXPIRED, now, reason="not_marketable", locked_amount=ZERO),
            )
        if from_lock:
            return Outcome(ledger, order)  # keeps resting on the lock it already has
        return self._rest(ledger, instrument, order)

    def _rest(self, ledger: Ledger, instrument: Instrument, order: OrderState) -> Outcome:
        asset, amount = self.lock_for(instrument, order)
        return Outcome(ledger.lock(asset, amount), replace(order, locked_asset=asset, locked_amount=amount))

    def lock_for(self, instrument: Instrument, order: OrderState) -> tuple[str, Decimal]:
        """What a resting order locks: base for sells; for buys the most its fill can cost."""
        if order.side is Side.SELL:
            return instrument.base, order.quantity
        q = order.quantity
        if order.type is OrderType.STOP:
            assert order.stop_price is not None
            rate = instrument.taker_fee_rate + self.slippage
            return instrument.quote, round8(q * order.stop_price * (1 + rate))
        assert order.price is not None
        cost = round8(q * order.price)
        # A limit rests and fills as maker; a stop-limit may fill as taker right after its trigger.
        rate = instrument.maker_fee_rate
        if order.type is OrderType.STOP_LIMIT:
            rate = max(instrument.maker_fee_rate, instrument.taker_fee_rate)
        return instrument.quote, cost + round8(cost * rate)

    # ---- ticks ----

    def on_tick(
        self, ledger: Ledger, instrument: Instrument, order: OrderState, quote: Quote, now: datetime
    ) -> Outcome | None:
        """What a tick does to a resting order, or None when the tick does not concern it."""
        watch = order.watch()
        if watch is None or not triggered(*watch, quote.price):
            return None
        if order.type in {OrderType.STOP, OrderType.STOP_LIMIT} and order.triggered_at is None:
            if order.type is OrderType.STOP:
                try:
                    return self._market(
                        ledger, instrument, order, quote, now, from_lock=True, triggered_at=now
                    )
                except ServiceError as refusal:
                    if refusal.code is not ErrorCode.INSUFFICIENT_FUNDS:
                        raise
                    return self.cancel(
                        ledger, replace(order, triggered_at=now), now, reason="insufficient_funds"
                    )
            return self._limit_now(
                ledger, instrument, replace(order, triggered_at=now), quote, now, from_lock=True
            )
        assert order.price is not None
        try:
            return self._fill(
                ledger, instrument, order, order.price, Liquidity.MAKER, quote, now, from_lock=True
            )
        except (
            ServiceError
        ) as refusal:  # e.g. the maker fee rose since it was placed and free cannot cover it
            if refusal.code is not ErrorCode.INSUFFICIENT_FUNDS:
                raise
            return self.cancel(ledger, order, now, reason="insufficient_funds")

    # ---- cancel ----

    def cancel(
        self, ledger: Ledger, order: OrderState, now: datetime, *, reason: str | None = None
    ) -> Outcome:
        """Cancel an open order, releasing exactly what it still locks."""
        if order.locked_amount:
            ledger = ledger.release(order.locked_asset, order.locked_amount)
        return Outcome(ledger, order.transition(OrderStatus.CANCELED, now, reason=reason, locked_amount=ZERO))

    # ---- execution ----

    def _market(
        self,
        ledger: Ledger,
        instrument: Instrument,
        order: OrderState,
        quote: Quote,
        now: datetime,
        *,
        from_lock: bool,
        triggered_at: datetime | None = None,
    ) -> Outcome:
        factor = 1 + self.slippage if order.side is Side.BUY else 1 - self.slippage
        exec_price = round8(quote.price * factor)
        if triggered_at is not None:
            order = replace(order, triggered_at=triggered_at)
        return self._fill(
            ledger, instrument, order, exec_price, Liquidity.TAKER, quote, now, from_lock=from_lock
        )

    def _fill(
        self,
        ledger: Ledger,
        instrument: Instrument,
        order: OrderState,
        price: Decimal,
        liquidity: Liquidity,
        quote: Quote,
        now: datetime,
        *,
        from_lock: bool,
    ) -> Outcome:
        rate = instrument.maker_fee_rate if liquidity is Liquidity.MAKER else instrument.taker_fee_rate
        q = order.quantity
        gross = round8(q * price)
        fee = round8(gross * rate)
        if order.side is Side.BUY:
            ledger = self._pay(ledger, instrument.quote, gross + fee, order, from_lock=from_lock)
            ledger = ledger.credit(instrument.base, q)
        else:
            ledger = self._pay(ledger, instrument.base, q, order, from_lock=from_lock)
            ledger = ledger.credit(instrument.quote, gross - fee)
        filled = order.transition(
            OrderStatus.FILLED,
            now,
            filled_quantity=q,
            average_price=price,
            fee_asset=instrument.quote,
            fee_amount=fee,
            locked_amount=ZERO,
        )
        fill = Fill(
            id=f"{order.id}-1",
            order_id=order.id,
            symbol=order.symbol,
            side=order.side,
            quantity=q,
            price=price,
            quote_amount=gross,
            fee_asset=instrument.quote,
            fee_amount=fee,
            liquidity=liquidity,
            quote=quote,
            executed_at=now,
        )
        return Outcome(ledger, filled, (fill,))

    @staticmethod
    def _pay(ledger: Ledger, asset: str, amount: Decimal, order: OrderState, *, from_lock: bool) -> Ledger:
        """Pay from the order's lock (topping up from free if the lock falls short), or from free."""
        if not from_lock:
            return ledger.debit(asset, amount)
        locked = order.locked_amount
        if amount <= locked:
            return ledger.consume(asset, amount).release(asset, locked - amount)
        return ledger.debit(asset, amount - locked).consume(asset, locked)


def marketable(order: OrderState, price: Decimal) -> bool:
    assert order.price is not None
    return price <= order.price if order.side is Side.BUY else price >= order.price


def stop_direction(side: Side) -> Direction:
    """A buy stop waits for the price to rise to it; a sell stop for the price to fall to it."""
    return Direction.AT_OR_ABOVE if side is Side.BUY else Direction.AT_OR_BELOW
