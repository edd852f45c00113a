"""Stable error codes (CONTRACT.md), their HTTP statuses, and the error carried by a bus reply."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class ErrorCode(StrEnum):
    VALIDATION_ERROR = "validation_error"
    UNAUTHORIZED = "unauthorized"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    RATE_LIMITED = "rate_limited"
    SERVICE_UNAVAILABLE = "service_unavailable"
    SERVICE_TIMEOUT = "service_timeout"
    INTERNAL_ERROR = "internal_error"
    # wallets
    PROVIDER_NOT_FOUND = "provider_not_found"
    INVALID_PROVIDER = "invalid_provider"
    WALLET_NOT_FOUND = "wallet_not_found"
    DUPLICATE_NAME = "duplicate_name"
    INVALID_CREDENTIALS = "invalid_credentials"
    CREDENTIALS_UNREADABLE = "credentials_unreadable"
    INITIAL_BALANCES_NOT_ALLOWED = "initial_balances_not_allowed"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    CONCURRENT_MODIFICATION = "concurrent_modification"
    # trading (demo-exchange)
    NOT_SUPPORTED = "not_supported"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    INVALID_QUANTITY = "invalid_quantity"
    INVALID_PRICE = "invalid_price"
    UNKNOWN_SYMBOL = "unknown_symbol"
    BELOW_MIN_NOTIONAL = "below_min_notional"
    RISK_LIMIT_EXCEEDED = "risk_limit_exceeded"
    NO_MARKET_PRICE = "no_market_price"
    DUPLICATE_CLIENT_ORDER_ID = "duplicate_client_order_id"
    ORDER_NOT_FOUND = "order_not_found"
    ORDER_NOT_OPEN = "order_not_open"


HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.VALIDATION_ERROR: 422,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
    ErrorCode.SERVICE_TIMEOUT: 504,
    ErrorCode.INTERNAL_ERROR: 500,
    ErrorCode.PROVIDER_NOT_FOUND: 404,
    ErrorCode.INVALID_PROVIDER: 422,
    ErrorCode.WALLET_NOT_FOUND: 404,
    ErrorCode.DUPLICATE_NAME: 409,
    ErrorCode.INVALID_CREDENTIALS: 422,
    ErrorCode.CREDENTIALS_UNREADABLE: 422,
    ErrorCode.INITIAL_BALANCES_NOT_ALLOWED: 422,
    ErrorCode.IDEMPOTENCY_CONFLICT: 409,
    ErrorCode.CONCURRENT_MODIFICATION: 409,
    ErrorCode.NOT_SUPPORTED: 422,
    ErrorCode.INSUFFICIENT_FUNDS: 422,
    ErrorCode.INVALID_QUANTITY: 422,
    ErrorCode.INVALID_PRICE: 422,
    ErrorCode.UNKNOWN_SYMBOL: 422,
    ErrorCode.BELOW_MIN_NOTIONAL: 422,
    ErrorCode.RISK_LIMIT_EXCEEDED: 422,
    ErrorCode.NO_MARKET_PRICE: 422,
    ErrorCode.DUPLICATE_CLIENT_ORDER_ID: 409,
    ErrorCode.ORDER_NOT_FOUND: 404,
    ErrorCode.ORDER_NOT_OPEN: 409,
}

TITLES: dict[ErrorCode, str] = {code: code.value.replace("_", " ").capitalize() for code in ErrorCode}


class FieldError(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    loc: list[str | int]
    msg: str
    type: str


class ErrorInfo(BaseModel):
    """What a service replies instead of a result."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: ErrorCode
    detail: str
    errors: list[FieldError] | None = Field(default=None)


class ServiceError(Exception):
    """A refusal with a stable code; raised by domain and handlers, replied as ``ErrorInfo``."""

    def __init__(self, code: ErrorCode, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(f"{code.value}: {detail}")
        self.code = code
        self.detail = detail
        self.errors = errors

    def info(self) -> ErrorInfo:
        return ErrorInfo(code=self.code, detail=self.detail, errors=self.errors)

    @classmethod
    def from_info(cls, info: ErrorInfo) -> ServiceError:
        """The refusal an error reply carries (the inverse of ``info``)."""
        return cls(info.code, info.detail, info.errors)
