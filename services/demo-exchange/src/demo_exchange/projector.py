"""Project ``order.updated`` / ``trade.executed`` events into the history collections (idempotent)."""

from __future__ import annotations

from contracts.events import Event
from contracts.orders import Order, Trade
from contracts.subjects import EventType
from demo_exchange.domain.matching import Fill, Quote
from demo_exchange.domain.orders import OrderState
from demo_exchange.store import ExchangeStore, trade_to_doc
from servicekit.mongo import Document


def order_state(order: Order) -> OrderState:
    return OrderState(
        id=order.id,
        client_order_id=order.client_order_id,
        wallet_id=order.wallet_id,
        symbol=order.symbol,
        side=order.side,
        type=order.type,
        time_in_force=order.time_in_force,
        quantity=order.quantity,
        price=order.price,
        stop_price=order.stop_price,
        status=order.status,
        created_at=order.created_at,
        updated_at=order.updated_at,
        filled_quantity=order.filled_quantity,
        average_price=order.average_price,
        fee_asset=order.fee.asset,
        fee_amount=order.fee.amount,
        locked_asset=order.locked.asset,
        locked_amount=order.locked.amount,
        reason=order.reason,
        triggered_at=order.triggered_at,
        closed_at=order.closed_at,
    )


def fill_of(trade: Trade) -> Fill:
    return Fill(
        id=trade.id,
        order_id=trade.order_id,
        symbol=trade.symbol,
        side=trade.side,
        quantity=trade.quantity,
        price=trade.price,
        quote_amount=trade.quote_amount,
        fee_asset=trade.fee.asset,
        fee_amount=trade.fee.amount,
        liquidity=trade.liquidity,
        quote=Quote(price=trade.quote.price, ts=trade.quote.ts, source=trade.quote.source),
        executed_at=trade.executed_at,
    )


async def project_event(store: ExchangeStore, event: Event) -> None:
    if event.event_type is EventType.ORDER_UPDATED:
        await store.project_order(
            order_state(Order.model_validate(event.data)), event.user_id, event.sequence
        )
    elif event.event_type is EventType.TRADE_EXECUTED:
        await store.project_trade(fill_of(Trade.model_validate(event.data)), event.wallet_id, event.sequence)


def trade_doc_of(event: Event) -> Document:
    """The history document of a ``trade.executed`` event."""
    return trade_to_doc(fill_of(Trade.model_validate(event.data)), event.wallet_id, event.sequence)
