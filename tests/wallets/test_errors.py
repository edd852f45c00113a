"""The wallet error hierarchy mirrors ccxt's, flags transient errors and carries stable contract codes."""

from __future__ import annotations

import pytest

from contracts.errors import ErrorCode, ErrorInfo, ServiceError
from wallets import errors as e

ALL_ERRORS: list[type[e.WalletError]] = [
    e.WalletError,
    e.ExchangeError,
    e.AuthenticationError,
    e.PermissionDenied,
    e.BadRequest,
    e.BadSymbol,
    e.BadResponse,
    e.InsufficientFunds,
    e.InvalidOrder,
    e.OrderNotFound,
    e.DuplicateOrderId,
    e.NotSupported,
    e.OperationFailed,
    e.NetworkError,
    e.DDoSProtection,
    e.RateLimitExceeded,
    e.ExchangeNotAvailable,
    e.OnMaintenance,
    e.RequestTimeout,
]
NETWORK_FAMILY = [cls for cls in ALL_ERRORS if issubclass(cls, e.OperationFailed)]
DEFINITE = [cls for cls in ALL_ERRORS if cls not in NETWORK_FAMILY]


@pytest.mark.parametrize(
    ("child", "parent"),
    [
        (e.ExchangeError, e.WalletError),
        (e.AuthenticationError, e.ExchangeError),
        (e.PermissionDenied, e.AuthenticationError),
        (e.BadRequest, e.ExchangeError),
        (e.BadSymbol, e.BadRequest),
        (e.BadResponse, e.ExchangeError),
        (e.InsufficientFunds, e.ExchangeError),
        (e.InvalidOrder, e.ExchangeError),
        (e.OrderNotFound, e.InvalidOrder),
        (e.DuplicateOrderId, e.InvalidOrder),
        (e.NotSupported, e.ExchangeError),
        (e.OperationFailed, e.WalletError),
        (e.NetworkError, e.OperationFailed),
        (e.DDoSProtection, e.NetworkError),
        (e.RateLimitExceeded, e.NetworkError),
        (e.ExchangeNotAvailable, e.NetworkError),
        (e.OnMaintenance, e.ExchangeNotAvailable),
        (e.RequestTimeout, e.NetworkError),
    ],
)
def test_error_is_an_instance_of_its_ccxt_parent(
    child: type[e.WalletError], parent: type[e.WalletError]
) -> None:
    assert isinstance(child("boom"), parent)


@pytest.mark.parametrize("cls", ALL_ERRORS)
def test_every_wallet_error_is_a_service_error_with_a_code(cls: type[e.WalletError]) -> None:
    error = cls("boom")
    assert isinstance(error, ServiceError)
    assert error.code is cls.default_code
    assert error.info() == ErrorInfo(code=cls.default_code, detail="boom")


@pytest.mark.parametrize("cls", NETWORK_FAMILY)
def test_network_family_error_is_transient(cls: type[e.WalletError]) -> None:
    assert cls.transient
    assert cls("x").transient


@pytest.mark.parametrize("cls", DEFINITE)
def test_exchange_family_error_is_not_transient(cls: type[e.WalletError]) -> None:
    assert not cls.transient
    assert not issubclass(cls, e.OperationFailed)


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (e.AuthenticationError, ErrorCode.INVALID_CREDENTIALS),
        (e.PermissionDenied, ErrorCode.INVALID_CREDENTIALS),
        (e.BadRequest, ErrorCode.VALIDATION_ERROR),
        (e.BadSymbol, ErrorCode.UNKNOWN_SYMBOL),
        (e.InsufficientFunds, ErrorCode.INSUFFICIENT_FUNDS),
        (e.InvalidOrder, ErrorCode.VALIDATION_ERROR),
        (e.OrderNotFound, ErrorCode.ORDER_NOT_FOUND),
        (e.DuplicateOrderId, ErrorCode.DUPLICATE_CLIENT_ORDER_ID),
        (e.NotSupported, ErrorCode.NOT_SUPPORTED),
        (e.NetworkError, ErrorCode.SERVICE_UNAVAILABLE),
        (e.ExchangeNotAvailable, ErrorCode.SERVICE_UNAVAILABLE),
        (e.RateLimitExceeded, ErrorCode.RATE_LIMITED),
        (e.RequestTimeout, ErrorCode.SERVICE_TIMEOUT),
        (e.WalletError, ErrorCode.INTERNAL_ERROR),
    ],
)
def test_error_class_has_its_stable_default_code(cls: type[e.WalletError], code: ErrorCode) -> None:
    assert cls.default_code is code


def test_precise_code_overrides_the_default_and_keeps_the_class() -> None:
    error = e.InvalidOrder("price must be a multiple of 0.01", code=ErrorCode.INVALID_PRICE)
    assert isinstance(error, e.InvalidOrder)
    assert error.code is ErrorCode.INVALID_PRICE
    assert error.detail == "price must be a multiple of 0.01"


def test_error_without_detail_is_described_by_its_class_name() -> None:
    assert e.RequestTimeout().detail == "RequestTimeout"


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (ErrorCode.INSUFFICIENT_FUNDS, e.InsufficientFunds),
        (ErrorCode.INVALID_QUANTITY, e.InvalidOrder),
        (ErrorCode.INVALID_PRICE, e.InvalidOrder),
        (ErrorCode.BELOW_MIN_NOTIONAL, e.InvalidOrder),
        (ErrorCode.RISK_LIMIT_EXCEEDED, e.InvalidOrder),
        (ErrorCode.NO_MARKET_PRICE, e.InvalidOrder),
        (ErrorCode.ORDER_NOT_OPEN, e.InvalidOrder),
        (ErrorCode.UNKNOWN_SYMBOL, e.BadSymbol),
        (ErrorCode.ORDER_NOT_FOUND, e.OrderNotFound),
        (ErrorCode.DUPLICATE_CLIENT_ORDER_ID, e.DuplicateOrderId),
        (ErrorCode.NOT_SUPPORTED, e.NotSupported),
        (ErrorCode.SERVICE_UNAVAILABLE, e.ExchangeNotAvailable),
        (ErrorCode.SERVICE_TIMEOUT, e.RequestTimeout),
        (ErrorCode.RATE_LIMITED, e.RateLimitExceeded),
        (ErrorCode.INVALID_CREDENTIALS, e.AuthenticationError),
        (ErrorCode.WALLET_NOT_FOUND, e.ExchangeError),
        (ErrorCode.INTERNAL_ERROR, e.ExchangeError),
    ],
)
def test_service_refusal_becomes_the_matching_wallet_error_with_its_code(
    code: ErrorCode, cls: type[e.WalletError]
) -> None:
    error = e.error_from_info(ErrorInfo(code=code, detail="refused"))
    assert type(error) is cls
    assert error.code is code
    assert error.detail == "refused"


@pytest.mark.parametrize(
    "code", [ErrorCode.SERVICE_UNAVAILABLE, ErrorCode.SERVICE_TIMEOUT, ErrorCode.RATE_LIMITED]
)
def test_unavailable_timeout_and_rate_limit_replies_are_transient(code: ErrorCode) -> None:
    assert e.error_class_for(code).transient


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_contract_code_maps_to_a_wallet_error(code: ErrorCode) -> None:
    assert issubclass(e.error_class_for(code), e.WalletError)


def test_error_info_round_trip_keeps_class_code_and_field_errors() -> None:
    original = e.InvalidOrder("quantity: bad", code=ErrorCode.INVALID_QUANTITY)
    again = e.error_from_info(original.info())
    assert type(again) is e.InvalidOrder
    assert again.info() == original.info()
