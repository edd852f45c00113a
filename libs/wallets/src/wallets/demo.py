"""``DemoWallet``: the BaseWallet port over NATS against demo-exchange (paper trading)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Protocol

from pydantic import BaseModel, SecretStr

from contracts.base import MAX_BATCH, MAX_PAGE_SIZE, Page
from contracts.errors import ErrorCode, ServiceError
from contracts.exchange import (
    AccountRef,
    BalancesBatch,
    FundsBody,
    GetBalancesBatch,
    GetTicker,
    ListOrders,
    ListTrades,
    MoveFunds,
    OrderListStatus,
    OrderRef,
    Ping,
    PlacedOrder,
    PlaceOrder,
    ResetAccount,
    ResetBody,
)
from contracts.market import SymbolInfo, Ticker
from contracts.orders import Balances, Order, OrderCreate, Trade
from contracts.replies import Empty
from contracts.subjects import Exchange
from contracts.wallets import WalletDefinition
from wallets.base import BaseWallet
from wallets.errors import error_from_info
from wallets.factory import register_wallet
from wallets.models import OrderListStatus as StatusFilter


class Bus(Protocol):
    """What DemoWallet needs from the message bus (``servicekit.bus.ServiceBus`` is one)."""

    async def request[T](self, subject: str, command: BaseModel, result: type[T]) -> T: ...


@register_wallet(integration_type="demo")
class DemoWallet(BaseWallet):
    def __init__(
        self,
        provider: WalletDefinition,
        credentials: Mapping[str, SecretStr] | None = None,
        *,
        wallet_id: str,
        user_id: str,
        bus: Bus,
    ) -> None:
        super().__init__(provider, credentials, wallet_id=wallet_id)
        self.user_id = user_id
        self._bus = bus
        self._ref = AccountRef(wallet_id=wallet_id, user_id=user_id)

    async def _ask[T](self, subject: str, command: BaseModel, result: type[T]) -> T:
        try:
            return await self._bus.request(subject, command, result)
        except ServiceError as refusal:
            raise error_from_info(refusal.info()) from None

    async def ping(self) -> None:
        await self._ask(Exchange.PING, Ping(), Empty)

    async def get_markets(self) -> list[SymbolInfo]:
        return (await self._ask(Exchange.MARKET_SYMBOLS, Ping(), Page[SymbolInfo])).items

    async def get_ticker(self, symbol: str) -> Ticker:
        return await self._ask(Exchange.MARKET_TICKER, GetTicker(symbol=symbol), Ticker)

    async def get_balance(self) -> Balances:
        return await self._ask(Exchange.BALANCES_GET, self._ref, Balances)

    @classmethod
    async def get_balances(
        cls, wallets: Sequence[BaseWallet], timeout: float
    ) -> list[Balances | BaseException]:
        """One ``svc.exchange.balances.batch`` request per 200 demo accounts instead of one each. An
        exchange that does not answer it yet (a rolling upgrade: no responders) is asked one by one."""
        demo = [w for w in wallets if isinstance(w, DemoWallet)]
        if len(demo) != len(wallets) or not demo:
            return await super().get_balances(wallets, timeout)
        by_bus: dict[int, list[int]] = {}
        for i, wallet in enumerate(demo):
            by_bus.setdefault(id(wallet._bus), []).append(i)
        outcomes: dict[int, Balances | BaseException] = {}
        for idx in by_bus.values():
            for start in range(0, len(idx), MAX_BATCH):
                part = idx[start : start + MAX_BATCH]
                answers = await cls._balances_batch([demo[i] for i in part], timeout)
                outcomes.update(zip(part, answers, strict=True))
        return [outcomes[i] for i in range(len(demo))]

    @classmethod
    async def _balances_batch(cls, chunk: list[DemoWallet], timeout: float) -> list[Balances | BaseException]:
        cmd = GetBalancesBatch(accounts=[w._ref for w in chunk])
        try:
            batch = await asyncio.wait_for(
                chunk[0]._bus.request(Exchange.BALANCES_BATCH, cmd, BalancesBatch), timeout
            )
        except ServiceError as refusal:
            if refusal.code is ErrorCode.SERVICE_UNAVAILABLE:
                return await super().get_balances(chunk, timeout)
            failed: BaseException = error_from_info(refusal.info())
            return [failed] * len(chunk)
        except TimeoutError as exc:
            return [exc] * len(chunk)
        found = {r.wallet_id: r for r in batch.items}
        outcomes: list[Balances | BaseException] = []
        for wallet in chunk:
            result = found.get(wallet._ref.wallet_id)
            if result is not None and result.balances is not None:
                outcomes.append(result.balances)
            elif result is not None and result.error is not None:
                outcomes.append(error_from_info(result.error))
            else:
                outcomes.append(ServiceError(ErrorCode.INTERNAL_ERROR, "the exchange left an account out"))
        return outcomes

    async def submit_order(self, request: OrderCreate) -> Order:
        if request.client_order_id is None:  # a retry-safe id, so a resend never doubles the order
            request = request.model_copy(update={"client_order_id": uuid.uuid4().hex})
        cmd = PlaceOrder(wallet_id=self._ref.wallet_id, user_id=self.user_id, body=request)
        return (await self._ask(Exchange.ORDERS_PLACE, cmd, PlacedOrder)).order

    def _order_ref(self, order_id: str) -> OrderRef:
        return OrderRef(wallet_id=self._ref.wallet_id, user_id=self.user_id, order_ref=order_id)

    async def cancel_order(self, order_id: str, symbol: str | None = None) -> Order:
        return await self._ask(Exchange.ORDERS_CANCEL, self._order_ref(order_id), Order)

    async def get_order(self, order_id: str, symbol: str | None = None) -> Order:
        return await self._ask(Exchange.ORDERS_GET, self._order_ref(order_id), Order)

    async def get_orders(
        self, symbol: str | None = None, *, status: StatusFilter = "all", limit: int | None = None
    ) -> list[Order]:
        cmd = ListOrders(
            wallet_id=self._ref.wallet_id,
            user_id=self.user_id,
            status=OrderListStatus(status),
            symbol=symbol,
            limit=min(limit or MAX_PAGE_SIZE, MAX_PAGE_SIZE),
        )
        return (await self._ask(Exchange.ORDERS_LIST, cmd, Page[Order])).items

    async def get_trades(self, symbol: str | None = None, *, limit: int | None = None) -> list[Trade]:
        cmd = ListTrades(
            wallet_id=self._ref.wallet_id,
            user_id=self.user_id,
            symbol=symbol,
            limit=min(limit or MAX_PAGE_SIZE, MAX_PAGE_SIZE),
        )
        return (await self._ask(Exchange.TRADES_LIST, cmd, Page[Trade])).items

    def _funds(self, asset: str, amount: Decimal) -> MoveFunds:
        return MoveFunds(
            wallet_id=self._ref.wallet_id,
            user_id=self.user_id,
            command_id=uuid.uuid4().hex,
            body=FundsBody(asset=asset, amount=amount),
        )

    async def deposit(self, asset: str, amount: Decimal) -> Balances:
        return await self._ask(Exchange.FUNDS_DEPOSIT, self._funds(asset, amount), Balances)

    async def withdraw(self, asset: str, amount: Decimal) -> Balances:
        return await self._ask(Exchange.FUNDS_WITHDRAW, self._funds(asset, amount), Balances)

    async def reset(self, balances: Mapping[str, Decimal] | None = None) -> Balances:
        cmd = ResetAccount(
            wallet_id=self._ref.wallet_id,
            user_id=self.user_id,
            command_id=uuid.uuid4().hex,
            body=ResetBody(balances=dict(balances) if balances is not None else None),
        )
        return await self._ask(Exchange.ACCOUNTS_RESET, cmd, Balances)
