from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from bson import ObjectId

from contracts.exchange import SyncAccount
from contracts.orders import OrderCreate, OrderType, Side
from contracts.wallets import IntegrationType, RiskLimits, UserWallet, WalletDefinition
from demo_exchange.app import ExchangeRuntime
from demo_exchange.domain import account as acc
from demo_exchange.domain.account import Account, Change
from demo_exchange.domain.matching import Quote
from demo_exchange.settings import ExchangeSettings


@pytest.fixture
async def exchange(nats_url: str, mongo_url: str, db_name: str) -> AsyncIterator[ExchangeRuntime]:
    runtime = ExchangeRuntime(ExchangeSettings(nats_url=nats_url, mongodb_url=mongo_url, mongodb_db=db_name))
    await runtime.start()
    yield runtime
    await runtime.stop()


def demo_provider() -> WalletDefinition:
    now = datetime.now(UTC)
    return WalletDefinition(
        id=str(ObjectId()),
        name="Demo Wallet",
        slug="demo-v1",
        integration_type=IntegrationType.DEMO,
        is_demo=True,
        is_active=True,
        required_credentials=[],
        supported_symbols=["BTC/USDT"],
        description="",
        created_at=now,
        updated_at=now,
    )


def demo_wallet(balances: dict[str, str] | None = None, **fields: object) -> UserWallet:
    now = datetime.now(UTC)
    return UserWallet.model_validate(
        {
            "id": str(ObjectId()),
            "user_id": f"user-{uuid.uuid4().hex[:8]}",
            "wallet_provider_id": str(ObjectId()),
            "provider_slug": "demo-v1",
            "custom_name": "paper",
            "is_active": True,
            "is_demo": True,
            "credentials_set": [],
            "balance": balances or {"USDT": "10000"},
            "risk_limits": RiskLimits().model_dump(),
            "total_trades": 0,
            "total_pnl": "0",
            "last_synced_at": None,
            "created_at": now,
            "updated_at": now,
            **fields,
        }
    )


async def open_account(exchange: ExchangeRuntime, wallet: UserWallet, sequence: int = 1) -> None:
    await exchange.service.sync_account(SyncAccount(registry_sequence=sequence, wallet=wallet))


def market_buy(
    exchange: ExchangeRuntime, account: Account, client_order_id: str, quote: Quote | None, now: datetime
) -> Change:
    """What the pure domain decides for a market buy of 0.01 BTC on `account`; nothing is written."""
    return acc.place_order(
        account,
        exchange.service.engine,
        exchange.service.instruments["BTC/USDT"],
        OrderCreate(symbol="BTC/USDT", side=Side.BUY, type=OrderType.MARKET, quantity=Decimal("0.01")),
        order_id=str(ObjectId()),
        client_order_id=client_order_id,
        quote=quote,
        now=now,
    )
