"""Instruments and their trading rules; validation of an order request against them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from contracts.errors import ErrorCode, ServiceError
from contracts.market import SymbolInfo
from contracts.orders import OrderCreate, OrderType
from demo_exchange.domain.money import ZERO, is_multiple


@dataclass(frozen=True)
class Instrument:
    symbol: str
    base: str
    quote: str
    price_step: Decimal
    quantity_step: Decimal
    min_quantity: Decimal
    min_notional: Decimal
    maker_fee_rate: Decimal = Decimal("0.001")
    taker_fee_rate: Decimal = Decimal("0.001")

    def info(self) -> SymbolInfo:
        return SymbolInfo(
            symbol=self.symbol,
            base=self.base,
            quote=self.quote,
            price_step=self.price_step,
            quantity_step=self.quantity_step,
            min_quantity=self.min_quantity,
            min_notional=self.min_notional,
            maker_fee_rate=self.maker_fee_rate,
            taker_fee_rate=self.taker_fee_rate,
        )


def _instrument(symbol: str, price_step: str, quantity_step: str) -> Instrument:
    base, quote = symbol.split("/")
    return Instrument(
        symbol=symbol,
        base=base,
        quote=quote,
        price_step=Decimal(price_step),
        quantity_step=Decimal(quantity_step),
        min_quantity=Decimal(quantity_step),
        min_notional=Decimal("5"),
    )


DEFAULT_INSTRUMENTS: dict[str, Instrument] = {
    i.symbol: i
    for i in (
        _instrument("BTC/USDT", "0.01", "0.00001"),
        _instrument("ETH/USDT", "0.01", "0.0001"),
        _instrument("SOL/USDT", "0.01", "0.001"),
    )
}


def _reject(code: ErrorCode, detail: str) -> ServiceError:
    return ServiceError(code, detail)


def _check_price(name: str, value: Decimal | None, instrument: Instrument, *, needed: bool) -> None:
    if not needed:
        if value is not None:
            raise _reject(ErrorCode.INVALID_PRICE, f"{name} does not apply to this order type")
        return
    if value is None:
        raise _reject(ErrorCode.INVALID_PRICE, f"{name} is required for this order type")
    if value <= ZERO:
        raise _reject(ErrorCode.INVALID_PRICE, f"{name} must be greater than 0")
    if not is_multiple(value, instrument.price_step):
        raise _reject(
            ErrorCode.INVALID_PRICE,
            f"{name} must be a multiple of {instrument.price_step} for {instrument.symbol}",
        )


def validate_order(request: OrderCreate, instrument: Instrument, reference_price: Decimal | None) -> None:
    """Refuse what can never be accepted; ``reference_price`` is the last price (market orders need one)."""
    q = request.quantity
    if q <= ZERO or not is_multiple(q, instrument.quantity_step):
        raise _reject(
            ErrorCode.INVALID_QUANTITY,
            f"quantity must be a positive multiple of {instrument.quantity_step} for {instrument.symbol}",
        )
    if q < instrument.min_quantity:
        raise _reject(ErrorCode.INVALID_QUANTITY, f"quantity must be at least {instrument.min_quantity}")
    kind = request.type
    _check_price("price", request.price, instrument, needed=kind in {OrderType.LIMIT, OrderType.STOP_LIMIT})
    _check_price(
        "stop_price", request.stop_price, instrument, needed=kind in {OrderType.STOP, OrderType.STOP_LIMIT}
    )
    if kind is OrderType.MARKET:
        if reference_price is None:
            raise _reject(ErrorCode.NO_MARKET_PRICE, f"no market price is known yet for {instrument.symbol}")
        notional_price = reference_price
    elif kind is OrderType.STOP:
        assert request.stop_price is not None
        notional_price = request.stop_price
    else:
        assert request.price is not None
        notional_price = request.price
    if q * notional_price < instrument.min_notional:
        raise _reject(
            ErrorCode.BELOW_MIN_NOTIONAL,
            f"quantity x price must be at least {instrument.min_notional} {instrument.quote} "
            f"for {instrument.symbol}",
        )
