"""Building a valid ``OrderCreate`` from ccxt-style arguments, refusing bad ones with wallet errors."""

from __future__ import annotations

from decimal import Decimal

from pydantic import ValidationError

from contracts.errors import ErrorCode, FieldError
from contracts.orders import OrderCreate, OrderType, Side, TimeInForce
from wallets.errors import BadRequest, BadSymbol, InvalidOrder, WalletError

_PRICED = frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT})
_STOPPED = frozenset({OrderType.STOP, OrderType.STOP_LIMIT})
_FIELD_CODES: dict[str, ErrorCode] = {
    "quantity": ErrorCode.INVALID_QUANTITY,
    "price": ErrorCode.INVALID_PRICE,
    "stop_price": ErrorCode.INVALID_PRICE,
}


def build_order_request(
    symbol: str,
    type: OrderType | str,
    side: Side | str,
    quantity: Decimal | str,
    price: Decimal | str | None = None,
    *,
    stop_price: Decimal | str | None = None,
    time_in_force: TimeInForce | str = TimeInForce.GTC,
    client_order_id: str | None = None,
) -> OrderCreate:
    """A validated order request; amounts are decimals (a float is refused), never rounded here."""
    try:
        request = OrderCreate.model_validate(
            {
                "symbol": symbol,
                "type": type,
                "side": side,
                "quantity": quantity,
                "price": price,
                "stop_price": stop_price,
                "time_in_force": time_in_force,
                "client_order_id": client_order_id,
            }
        )
    except ValidationError as exc:
        raise _refusal(exc) from None
    check_order_shape(request)
    return request


def check_order_shape(request: OrderCreate) -> None:
    """Quantity above zero; ``price`` exactly for limit / stop-limit, ``stop_price`` for stop / stop-limit."""
    if request.quantity <= 0:
        raise InvalidOrder("quantity must be greater than 0", code=ErrorCode.INVALID_QUANTITY)
    _check_price("price", request.price, needed=request.type in _PRICED)
    _check_price("stop_price", request.stop_price, needed=request.type in _STOPPED)


def _check_price(name: str, value: Decimal | None, *, needed: bool) -> None:
    if value is None and needed:
        raise InvalidOrder(f"{name} is required for this order type", code=ErrorCode.INVALID_PRICE)
    if value is not None and not needed:
        raise InvalidOrder(f"{name} does not apply to this order type", code=ErrorCode.INVALID_PRICE)
    if value is not None and value <= 0:
        raise InvalidOrder(f"{name} must be greater than 0", code=ErrorCode.INVALID_PRICE)


def _refusal(exc: ValidationError) -> WalletError:
    # Field errors without the input values: a message never echoes what was sent.
    errors = [
        FieldError(loc=[str(part) for part in e["loc"]], msg=e["msg"], type=e["type"]) for e in exc.errors()
    ]
    first = errors[0]
    field = str(first.loc[0]) if first.loc else ""
    detail = f"{field}: {first.msg}" if field else first.msg
    if field == "symbol":
        return BadSymbol(detail, errors=errors)
    if field in _FIELD_CODES:
        return InvalidOrder(detail, code=_FIELD_CODES[field], errors=errors)
    return BadRequest(detail, errors=errors)
