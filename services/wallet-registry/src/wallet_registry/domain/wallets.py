"""A user's wallet and the rules that change it; each change yields the event it causes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from contracts.errors import ErrorCode, ServiceError
from contracts.events import WalletEvent
from contracts.subjects import EventType
from contracts.wallets import (
    DEFAULT_DEMO_BALANCES,
    RiskLimits,
    UserWallet,
    UserWalletCreate,
    UserWalletUpdate,
    WalletDefinition,
)
from wallet_registry.domain.credentials import EncryptedCredentials, check_credential_names

EVENT_ID_PREFIX = "wallet-registry"


@dataclass(frozen=True)
class WalletRecord:
    id: str
    user_id: str
    provider_id: str
    provider_slug: str
    custom_name: str
    is_active: bool
    is_demo: bool
    credentials: EncryptedCredentials
    balance: dict[str, Decimal]
    risk_limits: RiskLimits
    total_trades: int
    total_pnl: Decimal
    last_synced_at: datetime | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    version: int = 1
    event_seq: int = 0

    def public(self) -> UserWallet:
        return UserWallet(
            id=self.id,
            user_id=self.user_id,
            wallet_provider_id=self.provider_id,
            provider_slug=self.provider_slug,
            custom_name=self.custom_name,
            is_active=self.is_active,
            is_demo=self.is_demo,
            credentials_set=self.credentials.names,
            balance=self.balance,
            risk_limits=self.risk_limits,
            total_trades=self.total_trades,
            total_pnl=self.total_pnl,
            last_synced_at=self.last_synced_at,
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


@dataclass(frozen=True)
class Change:
    """A new state of the wallet and the event it causes (committed together)."""

    wallet: WalletRecord
    event: WalletEvent


def _event(
    wallet: WalletRecord, event_type: EventType, at: datetime, correlation_id: str | None
) -> WalletEvent:
    return WalletEvent(
        event_id=f"{EVENT_ID_PREFIX}:{wallet.id}:{wallet.event_seq}",
        event_type=event_type,
        occurred_at=at,
        wallet_id=wallet.id,
        user_id=wallet.user_id,
        sequence=wallet.event_seq,
        correlation_id=correlation_id,
        data=wallet.public(),
    )


def require_usable_provider(provider: WalletDefinition | None, ref: str) -> WalletDefinition:
    if provider is None:
        raise ServiceError(ErrorCode.INVALID_PROVIDER, f"wallet provider '{ref}' does not exist")
    if not provider.is_active:
        raise ServiceError(ErrorCode.INVALID_PROVIDER, f"wallet provider '{provider.slug}' is not active")
    return provider


def check_credentials(provider: WalletDefinition, names: list[str]) -> None:
    if problem := check_credential_names(list(provider.required_credentials), names):
        raise ServiceError(ErrorCode.INVALID_CREDENTIALS, problem)


def opening_balance(provider: WalletDefinition, body: UserWalletCreate) -> dict[str, Decimal]:
    if not provider.is_demo:
        if body.initial_balances is not None:
            raise ServiceError(
                ErrorCode.INITIAL_BALANCES_NOT_ALLOWED,
                "initial_balances are only for demo providers; a real wallet's balance comes from "
                "its exchange",
            )
        return {}
    if body.initial_balances is None:
        return dict(DEFAULT_DEMO_BALANCES)
    return dict(body.initial_balances)


def create_fingerprint(body: UserWalletCreate) -> str:
    """Identifies a create command's body for idempotent retries; credential *values* are not hashed."""
    shape = body.model_dump(mode="json", exclude={"credentials"})
    shape["credential_names"] = sorted(body.credentials or {})
    canonical = json.dumps(shape, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def open_wallet(
    *,
    wallet_id: str,
    user_id: str,
    provider: WalletDefinition,
    body: UserWalletCreate,
    credentials: EncryptedCredentials,
    now: datetime,
    correlation_id: str | None,
) -> Change:
    check_credentials(provider, credentials.names)
    wallet = WalletRecord(
        id=wallet_id,
        user_id=user_id,
        provider_id=provider.id,
        provider_slug=provider.slug,
        custom_name=body.custom_name,
        is_active=True,
        is_demo=provider.is_demo,
        credentials=credentials,
        balance=opening_balance(provider, body),
        risk_limits=body.risk_limits or RiskLimits(),
        total_trades=0,
        total_pnl=Decimal(0),
        last_synced_at=None,
        created_at=now,
        updated_at=now,
        event_seq=1,
    )
    return Change(wallet, _event(wallet, EventType.WALLET_CREATED, now, correlation_id))


def update_wallet(
    wallet: WalletRecord,
    update: UserWalletUpdate,
    *,
    provider: WalletDefinition,
    credentials: EncryptedCredentials | None,
    now: datetime,
    correlation_id: str | None,
) -> Change | None:
    """The changed wallet and its event, or None when the update changes nothing."""
    fields = update.model_fields_set
    name = (
        update.custom_name
        if "custom_name" in fields and update.custom_name is not None
        else wallet.custom_name
    )
    active = update.is_active if "is_active" in fields and update.is_active is not None else wallet.is_active
    limits = (update.risk_limits or RiskLimits()) if "risk_limits" in fields else wallet.risk_limits
    if credentials is not None:
        check_credentials(provider, credentials.names)
    unchanged = (name, active, limits) == (wallet.custom_name, wallet.is_active, wallet.risk_limits)
    if unchanged and credentials is None:  # new credentials always change the stored tokens
        return None
    changed = replace(
        wallet,
        custom_name=name,
        is_active=active,
        risk_limits=limits,
        credentials=credentials if credentials is not None else wallet.credentials,
        updated_at=now,
        version=wallet.version + 1,
        event_seq=wallet.event_seq + 1,
    )
    return Change(changed, _event(changed, EventType.WALLET_UPDATED, now, correlation_id))


def delete_wallet(wallet: WalletRecord, *, now: datetime, correlation_id: str | None) -> Change:
    deleted = replace(
        wallet,
        is_active=False,
        deleted_at=now,
        updated_at=now,
        version=wallet.version + 1,
        event_seq=wallet.event_seq + 1,
    )
    return Change(deleted, _event(deleted, EventType.WALLET_DELETED, now, correlation_id))
