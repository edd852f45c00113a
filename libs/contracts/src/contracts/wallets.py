"""Providers (wallet definitions), user wallets, and the registry's commands."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import Field, field_serializer, model_validator

from contracts.base import Model, PageRequest
from contracts.values import (
    Amount,
    Asset,
    CommandId,
    CredentialName,
    CredentialValue,
    ObjectIdStr,
    ProviderRef,
    SignedAmount,
    Slug,
    Symbol,
    UserId,
    WalletId,
    WalletName,
)


class IntegrationType(StrEnum):
    DEMO = "demo"
    CEX = "cex"
    DEX = "dex"


class WalletDefinition(Model):
    """A provider a user can connect a wallet to (the seeded catalog)."""

    id: ObjectIdStr
    name: str
    slug: Slug
    integration_type: IntegrationType
    is_demo: bool
    is_active: bool
    required_credentials: list[CredentialName]
    supported_symbols: list[Symbol]
    description: str
    created_at: datetime
    updated_at: datetime


class RiskLimits(Model):
    """Per-wallet risk limits enforced by demo-exchange; null means no limit."""

    max_order_notional: Amount | None = None
    max_open_orders: int | None = Field(default=None, ge=1, le=10_000)
    allowed_symbols: list[Symbol] | None = Field(default=None, max_length=200)


Credentials = dict[CredentialName, CredentialValue]


class UserWalletCreate(Model):
    """HTTP body of ``POST /user-wallets``."""

    wallet_provider_id: ProviderRef = Field(examples=["demo-v1"])
    custom_name: WalletName = Field(examples=["My paper account"])
    credentials: Credentials | None = Field(default=None, max_length=16)
    initial_balances: dict[Asset, Amount] | None = Field(
        default=None, max_length=50, examples=[{"USDT": "10000", "BTC": "0.5"}]
    )
    risk_limits: RiskLimits | None = None

    model_config = Model.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "wallet_provider_id": "demo-v1",
                    "custom_name": "Paper",
                    "initial_balances": {"USDT": "10000"},
                },
                {
                    "wallet_provider_id": "binance-v1",
                    "custom_name": "Binance main",
                    "credentials": {"api_key": "<key>", "api_secret": "<secret>"},
                },
            ]
        }
    }


class UserWalletUpdate(Model):
    """HTTP body of ``PUT /user-wallets/{id}``: any of these fields; at least one."""

    custom_name: WalletName | None = None
    is_active: bool | None = None
    credentials: Credentials | None = Field(default=None, max_length=16)
    risk_limits: RiskLimits | None = None

    model_config = Model.model_config | {
        "json_schema_extra": {"examples": [{"custom_name": "Renamed"}, {"is_active": False}]}
    }

    @model_validator(mode="after")
    def _at_least_one(self) -> UserWalletUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one of custom_name, is_active, credentials, risk_limits")
        for name in self.model_fields_set:
            if name in {"custom_name", "is_active", "credentials"} and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class UserWallet(Model):
    """A user's wallet as every client sees it: never credential values or ciphertext."""

    id: WalletId
    user_id: UserId
    wallet_provider_id: ObjectIdStr
    provider_slug: Slug
    custom_name: str
    is_active: bool
    is_demo: bool
    credentials_set: list[CredentialName]
    balance: dict[Asset, SignedAmount]
    risk_limits: RiskLimits
    total_trades: int
    total_pnl: SignedAmount
    last_synced_at: datetime | None
    created_at: datetime
    updated_at: datetime


DEFAULT_DEMO_BALANCES: dict[str, Decimal] = {"USDT": Decimal("10000")}


# ---- registry commands (gateway → wallet-registry); user_id always comes from the verified token ----


class ListProviders(PageRequest):
    integration_type: IntegrationType | None = None
    is_demo: bool | None = None


class GetProvider(Model):
    ref: ProviderRef


class CreateUserWallet(Model):
    command_id: CommandId
    user_id: UserId
    body: UserWalletCreate


class ListUserWallets(PageRequest):
    user_id: UserId


class GetUserWallet(Model):
    user_id: UserId
    wallet_id: WalletId


class UpdateUserWallet(Model):
    command_id: CommandId
    user_id: UserId
    wallet_id: WalletId
    body: UserWalletUpdate

    @field_serializer("body", when_used="json")
    def _only_given_fields(self, body: UserWalletUpdate) -> dict[str, Any]:
        # An update is "the fields given": absent and null mean different things (null limits = no limits).
        return body.model_dump(mode="json", exclude_unset=True)


class DeleteUserWallet(Model):
    command_id: CommandId
    user_id: UserId
    wallet_id: WalletId


class TestConnection(Model):
    """gateway → wallet-registry: build the wallet from its provider and credentials and probe it."""

    __test__ = False  # not a pytest class

    user_id: UserId
    wallet_id: WalletId


class ConnectionTest(Model):
    """``POST /user-wallets/{id}/test-connection``: never carries credential values."""

    success: bool
    latency_ms: float = Field(ge=0, description="round trip of the probe, in milliseconds")
    message: str = Field(max_length=500)
    tested_at: datetime
