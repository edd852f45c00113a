"""The BaseWallet port (ccxt-shaped), wallet errors and the provider factory.

Implementations (``DemoWallet`` over NATS, later ``CcxtWallet``) subclass ``BaseWallet`` and register with
``@register_wallet(...)``; callers build one with ``create_wallet(provider, credentials, **deps)``.
"""

from __future__ import annotations

from wallets.base import BaseWallet
from wallets.errors import (
    AuthenticationError,
    BadRequest,
    BadResponse,
    BadSymbol,
    DDoSProtection,
    DuplicateOrderId,
    ExchangeError,
    ExchangeNotAvailable,
    InsufficientFunds,
    InvalidOrder,
    NetworkError,
    NotSupported,
    OnMaintenance,
    OperationFailed,
    OrderNotFound,
    PermissionDenied,
    RateLimitExceeded,
    RequestTimeout,
    WalletError,
    error_class_for,
    error_from_info,
)
from wallets.factory import WalletRegistry, create_wallet, default_registry, register_wallet
from wallets.models import ConnectionTest, OrderListStatus
from wallets.orders import build_order_request

__all__ = [
    "AuthenticationError",
    "BadRequest",
    "BadResponse",
    "BadSymbol",
    "BaseWallet",
    "ConnectionTest",
    "DDoSProtection",
    "DuplicateOrderId",
    "ExchangeError",
    "ExchangeNotAvailable",
    "InsufficientFunds",
    "InvalidOrder",
    "NetworkError",
    "NotSupported",
    "OnMaintenance",
    "OperationFailed",
    "OrderListStatus",
    "OrderNotFound",
    "PermissionDenied",
    "RateLimitExceeded",
    "RequestTimeout",
    "WalletError",
    "WalletRegistry",
    "build_order_request",
    "create_wallet",
    "default_registry",
    "error_class_for",
    "error_from_info",
    "register_wallet",
]
