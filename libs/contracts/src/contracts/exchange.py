"""demo-exchange commands (gateway / registry / DemoWallet → demo-exchange). ``user_id`` always comes
from a verified token or from the registry, never from a client's body."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from contracts.base import MAX_BATCH, Model, PageRequest
from contracts.errors import ErrorInfo
from contracts.orders import Balances, Order, OrderCreate
from contracts.values import Amount, Asset, CommandId, Symbol, UserId, WalletId
from contracts.wallets import UserWallet


class AccountRef(Model):
    """Which demo account: the wallet and its owner (every query filters on both)."""

    wallet_id: WalletId
    user_id: UserId


class SyncAccount(Model):
    """The registry's view of a demo wallet: opens the account, updates limits, or closes it.

    Applied idempotently and in order by ``registry_sequence`` (the wallet event's sequence), whether it
    arrives as a direct request or from the ``evt.wallet.>`` stream.
    """

    registry_sequence: int = Field(ge=1)
    wallet: UserWallet
    deleted: bool = False


class PlaceOrder(AccountRef):
    body: OrderCreate


class OrderRef(AccountRef):
    order_ref: str = Field(min_length=1, max_length=64, description="order id or client_order_id")


class OrderListStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    ALL = "all"


class ListOrders(AccountRef, PageRequest):
    status: OrderListStatus = OrderListStatus.ALL
    symbol: Symbol | None = None


class ListTrades(AccountRef, PageRequest):
    symbol: Symbol | None = None


class ResetBody(Model):
    """HTTP body of ``POST .../reset``."""

    balances: dict[Asset, Amount] | None = Field(default=None, max_length=50, examples=[{"USDT": "10000"}])


class ResetAccount(AccountRef):
    command_id: CommandId
    body: ResetBody


class FundsBody(Model):
    """HTTP body of ``POST .../deposits`` and ``POST .../withdrawals``."""

    asset: Asset = Field(examples=["USDT"])
    amount: Amount = Field(examples=["500"])


class MoveFunds(AccountRef):
    command_id: CommandId
    body: FundsBody


class GetTicker(Model):
    symbol: Symbol


class Ping(Model):
    """Answered with an empty result: used by ``test-connection`` to measure the round trip."""


class PlacedOrder(Model):
    """The reply to ``PlaceOrder``: ``created`` is false when a retry returned the original order."""

    order: Order
    created: bool


class GetBalancesBatch(Model):
    """Many demo accounts' balances in one request (balance-sync's batched sweep)."""

    accounts: list[AccountRef] = Field(min_length=1, max_length=MAX_BATCH)


class BalancesResult(Model):
    """One account's balances, or the refusal ``svc.exchange.balances.get`` would have replied."""

    wallet_id: WalletId
    balances: Balances | None = None
    error: ErrorInfo | None = None


class BalancesBatch(Model):
    items: list[BalancesResult]
