"""Wallet errors: ccxt's hierarchy (``python/ccxt/base/errors.py``), each with a stable contract code.

Shape (a subset of ccxt's ``error_hierarchy``)::

    WalletError                      (ccxt BaseError)
    ├── ExchangeError                a definite refusal: retrying the same call will not help
    │   ├── AuthenticationError
    │   │   └── PermissionDenied
    │   ├── BadRequest
    │   │   └── BadSymbol
    │   ├── BadResponse
    │   ├── InsufficientFunds
    │   ├── InvalidOrder
    │   │   ├── OrderNotFound
    │   │   └── DuplicateOrderId
    │   └── NotSupported
    └── OperationFailed              transient: the same call may succeed later
        └── NetworkError
            ├── DDoSProtection
            ├── RateLimitExceeded
            ├── ExchangeNotAvailable
            │   └── OnMaintenance
            └── RequestTimeout

Every error is a ``contracts.errors.ServiceError``: it carries ``code`` (the class's ``default_code`` unless a
more precise one is given, e.g. ``InvalidOrder(..., code=ErrorCode.INVALID_PRICE)``) and replies as
``ErrorInfo``. Messages name assets, symbols, order ids and credential *names*, never credential values.
"""

from __future__ import annotations

from typing import ClassVar

from contracts.errors import ErrorCode, ErrorInfo, FieldError, ServiceError


class WalletError(ServiceError):
    """Base of every wallet error (ccxt ``BaseError``)."""

    default_code: ClassVar[ErrorCode] = ErrorCode.INTERNAL_ERROR
    transient: ClassVar[bool] = False
    """True when retrying the same call later may succeed (the ``NetworkError`` family)."""

    def __init__(
        self, detail: str = "", *, code: ErrorCode | None = None, errors: list[FieldError] | None = None
    ) -> None:
        super().__init__(code or self.default_code, detail or type(self).__name__, errors)


class ExchangeError(WalletError):
    """The wallet's venue refused the call; retrying it unchanged will not help."""


class AuthenticationError(ExchangeError):
    """Credentials are missing, malformed or rejected."""

    default_code = ErrorCode.INVALID_CREDENTIALS


class PermissionDenied(AuthenticationError):
    """The credentials work but lack the permission the call needs (e.g. a read-only API key)."""


class BadRequest(ExchangeError):
    default_code = ErrorCode.VALIDATION_ERROR


class BadSymbol(BadRequest):
    """The symbol is malformed or the venue does not list it."""

    default_code = ErrorCode.UNKNOWN_SYMBOL


class BadResponse(ExchangeError):
    """The venue answered with something that cannot be understood."""


class InsufficientFunds(ExchangeError):
    default_code = ErrorCode.INSUFFICIENT_FUNDS


class InvalidOrder(ExchangeError):
    """An order the venue refuses (precision, min notional, risk limit, not open any more...)."""

    default_code = ErrorCode.VALIDATION_ERROR


class OrderNotFound(InvalidOrder):
    default_code = ErrorCode.ORDER_NOT_FOUND


class DuplicateOrderId(InvalidOrder):
    """The ``client_order_id`` is already used by a different order."""

    default_code = ErrorCode.DUPLICATE_CLIENT_ORDER_ID


class NotSupported(ExchangeError):
    """This wallet cannot do that (e.g. ``reset`` on a real exchange)."""

    default_code = ErrorCode.NOT_SUPPORTED


class OperationFailed(WalletError):
    """The call did not complete; the same call may succeed later."""

    default_code = ErrorCode.SERVICE_UNAVAILABLE
    transient = True


class NetworkError(OperationFailed):
    pass


class DDoSProtection(NetworkError):
    default_code = ErrorCode.RATE_LIMITED


class RateLimitExceeded(NetworkError):
    default_code = ErrorCode.RATE_LIMITED


class ExchangeNotAvailable(NetworkError):
    pass


class OnMaintenance(ExchangeNotAvailable):
    pass


class RequestTimeout(NetworkError):
    default_code = ErrorCode.SERVICE_TIMEOUT


_BY_CODE: dict[ErrorCode, type[WalletError]] = {
    ErrorCode.UNAUTHORIZED: AuthenticationError,
    ErrorCode.INVALID_CREDENTIALS: AuthenticationError,
    ErrorCode.CREDENTIALS_UNREADABLE: AuthenticationError,
    ErrorCode.VALIDATION_ERROR: BadRequest,
    ErrorCode.PAYLOAD_TOO_LARGE: BadRequest,
    ErrorCode.IDEMPOTENCY_CONFLICT: BadRequest,
    ErrorCode.UNKNOWN_SYMBOL: BadSymbol,
    ErrorCode.INSUFFICIENT_FUNDS: InsufficientFunds,
    ErrorCode.INVALID_QUANTITY: InvalidOrder,
    ErrorCode.INVALID_PRICE: InvalidOrder,
    ErrorCode.BELOW_MIN_NOTIONAL: InvalidOrder,
    ErrorCode.RISK_LIMIT_EXCEEDED: InvalidOrder,
    ErrorCode.NO_MARKET_PRICE: InvalidOrder,
    ErrorCode.ORDER_NOT_OPEN: InvalidOrder,
    ErrorCode.ORDER_NOT_FOUND: OrderNotFound,
    ErrorCode.DUPLICATE_CLIENT_ORDER_ID: DuplicateOrderId,
    ErrorCode.NOT_SUPPORTED: NotSupported,
    ErrorCode.RATE_LIMITED: RateLimitExceeded,
    ErrorCode.SERVICE_UNAVAILABLE: ExchangeNotAvailable,
    ErrorCode.SERVICE_TIMEOUT: RequestTimeout,
}


def error_class_for(code: ErrorCode) -> type[WalletError]:
    """The wallet error a contract code is raised as; codes without a closer match are ``ExchangeError``."""
    return _BY_CODE.get(code, ExchangeError)


def error_from_info(info: ErrorInfo) -> WalletError:
    """Turn a service's refusal (a bus reply) into the wallet error to raise, keeping its precise code."""
    return error_class_for(info.code)(info.detail, code=info.code, errors=info.errors)
