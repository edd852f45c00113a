"""Small builders for the wallet tests: provider documents, balances, orders and in-memory wallets."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import SecretStr

from contracts.market import SymbolInfo
from contracts.orders import AssetAmount, AssetBalance, Balances, Order, OrderCreate, OrderStatus
from contracts.wallets import IntegrationType, WalletDefinition
from wallets import BaseWallet, WalletError
from wallets.models import OrderListStatus

WALLET_ID = "6650c0ffee00000000000001"
NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def provider(
    slug: str = "demo-v1",
    integration_type: IntegrationType = IntegrationType.DEMO,
    required_credentials: list[str] | None = None,
) -> WalletDefinition:
    return WalletDefinition(
        id=uuid.uuid4().hex[:24],
        name=slug.title(),
        slug=slug,
        integration_type=integration_type,
        is_demo=integration_type is IntegrationType.DEMO,
        is_active=True,
        required_credentials=required_credentials or [],
        supported_symbols=["BTC/USDT"],
        description="test provider",
        created_at=NOW,
        updated_at=NOW,
    )


def binance() -> WalletDefinition:
    return provider("binance-v1", IntegrationType.CEX, ["api_key", "api_secret"])


def secrets() -> dict[str, SecretStr]:
    # Distinctive values so a leak is found by a plain substring search.
    return {
        "api_key": SecretStr(f"AKEY-{uuid.uuid4().hex}"),
        "api_secret": SecretStr(f"ASECRET-{uuid.uuid4().hex}"),
    }


def balances(**free: str) -> Balances:
    return Balances(
        wallet_id=WALLET_ID,
        balances={
            asset: AssetBalance(free=Decimal(v), locked=Decimal(0), total=Decimal(v))
            for asset, v in free.items()
        },
        updated_at=NOW,
    )


def symbol_info(symbol: str = "BTC/USDT") -> SymbolInfo:
    base, quote = symbol.split("/")
    step = Decimal("0.01")
    return SymbolInfo(
        symbol=symbol,
        base=base,
        quote=quote,
        price_step=step,
        quantity_step=Decimal("0.00001"),
        min_quantity=Decimal("0.00001"),
        min_notional=Decimal(10),
        maker_fee_rate=Decimal("0.001"),
        taker_fee_rate=Decimal("0.001"),
    )


def order_from(request: OrderCreate) -> Order:
    return Order(
        id=uuid.uuid4().hex[:24],
        client_order_id=request.client_order_id or "generated",
        wallet_id=WALLET_ID,
        symbol=request.symbol,
        side=request.side,
        type=request.type,
        time_in_force=request.time_in_force,
        quantity=request.quantity,
        price=request.price,
        stop_price=request.stop_price,
        status=OrderStatus.OPEN,
        filled_quantity=Decimal(0),
        average_price=None,
        fee=AssetAmount(asset="USDT", amount=Decimal(0)),
        locked=AssetAmount(asset="USDT", amount=Decimal(0)),
        triggered_at=None,
        created_at=NOW,
        updated_at=NOW,
        closed_at=None,
    )


class BalanceOnlyWallet(BaseWallet):
    """Implements only the abstract minimum: every other call keeps BaseWallet's default."""

    def __init__(
        self,
        provider: WalletDefinition,
        credentials: Mapping[str, SecretStr] | None = None,
        *,
        wallet_id: str | None = None,
        free: Mapping[str, str] | None = None,
        fail_with: WalletError | None = None,
    ) -> None:
        super().__init__(provider, credentials, wallet_id=wallet_id)
        self.free = dict(free or {"USDT": "10000"})
        self.fail_with = fail_with
        self.closed = False

    async def get_balance(self) -> Balances:
        if self.fail_with is not None:
            raise self.fail_with
        return balances(**self.free)

    async def close(self) -> None:
        self.closed = True


class TradingWallet(BalanceOnlyWallet):
    """Records what the BaseWallet helpers hand to the override points."""

    symbol_separator = "-"

    def __init__(self, provider: WalletDefinition, *args: Any, **kwargs: Any) -> None:
        super().__init__(provider, *args, **kwargs)
        self.submitted: list[OrderCreate] = []
        self.order_queries: list[tuple[str | None, OrderListStatus, int | None]] = []
        self.market_loads = 0

    async def get_markets(self) -> list[SymbolInfo]:
        self.market_loads += 1
        return [symbol_info("BTC/USDT"), symbol_info("ETH/USDT")]

    async def submit_order(self, request: OrderCreate) -> Order:
        self.submitted.append(request)
        return order_from(request)

    async def get_orders(
        self, symbol: str | None = None, *, status: OrderListStatus = "all", limit: int | None = None
    ) -> list[Order]:
        self.order_queries.append((symbol, status, limit))
        return []
