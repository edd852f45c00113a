"""``BaseWallet``: the async, ccxt-shaped port every wallet implements (demo over NATS, later ccxt).

Only ``get_balance`` is abstract; every other venue call defaults to raising ``NotSupported`` (ccxt's rule),
so ``has`` tells what a wallet can do. Unified symbols are ``BASE/QUOTE``; ``format_symbol`` /
``parse_symbol`` translate to and from the venue's own market id. Amounts are ``Decimal``, never float.
"""

from __future__ import annotations

import asyncio
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from types import MappingProxyType, TracebackType
from typing import ClassVar, Self

from pydantic import SecretStr

from contracts.market import SymbolInfo, Ticker
from contracts.orders import Balances, Order, OrderCreate, OrderType, Side, TimeInForce, Trade
from contracts.wallets import WalletDefinition
from wallets.errors import AuthenticationError, BadSymbol, NotSupported, WalletError
from wallets.models import ConnectionTest, OrderListStatus
from wallets.orders import build_order_request

_SYMBOL = re.compile(r"^([A-Z0-9]{2,12})/([A-Z0-9]{2,12})$")
_ZERO = Decimal(0)


class BaseWallet(ABC):
    """One user's wallet at one provider. Built by ``create_wallet``; use it as ``async with``."""

    symbol_separator: ClassVar[str] = "/"
    """Between base and quote in the venue's market id; ``""`` (no separator) needs ``parse_symbol``."""

    CAPABILITIES: ClassVar[tuple[str, ...]] = (
        "get_balance",
        "get_markets",
        "get_ticker",
        "create_order",
        "cancel_order",
        "get_order",
        "get_orders",
        "get_open_orders",
        "get_closed_orders",
        "get_trades",
        "deposit",
        "withdraw",
        "reset",
    )
    _DELEGATES: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "create_order": ("submit_order",),
        "get_open_orders": ("get_orders",),
        "get_closed_orders": ("get_orders",),
    }

    def __init__(
        self,
        provider: WalletDefinition,
        credentials: Mapping[str, SecretStr] | None = None,
        *,
        wallet_id: str | None = None,
    ) -> None:
        self.provider = provider
        self.wallet_id = wallet_id
        self._credentials: Mapping[str, SecretStr] = MappingProxyType(dict(credentials or {}))
        self._markets: Mapping[str, SymbolInfo] | None = None

    # ---- identity, credentials, lifecycle ----

    @property
    def slug(self) -> str:
        return self.provider.slug

    @property
    def is_demo(self) -> bool:
        return self.provider.is_demo

    @property
    def credential_names(self) -> list[str]:
        return sorted(self._credentials)

    def credential(self, name: str) -> SecretStr:
        """One credential, still wrapped: reveal it only at the call that signs a request."""
        try:
            return self._credentials[name]
        except KeyError:
            raise AuthenticationError(f"{self.slug} needs the credential '{name}'") from None

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} provider={self.slug!r} wallet_id={self.wallet_id!r} "
            f"credentials={self.credential_names}>"
        )

    __str__ = __repr__

    async def close(self) -> None:  # noqa: B027 - optional hook, deliberately not abstract
        """Release connections and sessions; the default holds none."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # ---- capabilities ----

    def supports(self, capability: str) -> bool:
        """Whether this wallet implements ``capability`` (one of ``CAPABILITIES``) instead of the default."""
        if capability not in self.CAPABILITIES:
            raise ValueError(f"unknown capability {capability!r}")
        names = (capability, *self._DELEGATES.get(capability, ()))
        return any(getattr(type(self), name) is not getattr(BaseWallet, name) for name in names)

    @property
    def has(self) -> dict[str, bool]:
        """ccxt's ``exchange.has``: capability -> implemented."""
        return {name: self.supports(name) for name in self.CAPABILITIES}

    def _unsupported(self, method: str) -> NotSupported:
        return NotSupported(f"{type(self).__name__} ({self.slug}) does not support {method}")

    # ---- symbols ----

    @staticmethod
    def split_symbol(symbol: str) -> tuple[str, str]:
        """``BTC/USDT`` -> ``("BTC", "USDT")``; anything else is ``BadSymbol``."""
        match = _SYMBOL.fullmatch(symbol)
        if match is None:
            raise BadSymbol(f"{symbol[:40]!r} is not a BASE/QUOTE symbol")
        return match[1], match[2]

    def format_symbol(self, symbol: str) -> str:
        """Unified ``BASE/QUOTE`` -> the venue's market id."""
        base, quote = self.split_symbol(symbol)
        return f"{base}{self.symbol_separator}{quote}"

    def parse_symbol(self, market_id: str) -> str:
        """The venue's market id -> unified ``BASE/QUOTE`` (the inverse of ``format_symbol``)."""
        if not self.symbol_separator:
            raise self._unsupported("parse_symbol without a separator")
        base, separator, quote = market_id.partition(self.symbol_separator)
        if not separator:
            raise BadSymbol(f"{market_id[:40]!r} is not a market id of {self.slug}")
        symbol = f"{base}/{quote}"
        self.split_symbol(symbol)
        return symbol

    # ---- market data ----

    async def get_markets(self) -> list[SymbolInfo]:
        raise self._unsupported("get_markets")

    async def load_markets(self, *, reload: bool = False) -> Mapping[str, SymbolInfo]:
        """``get_markets`` by symbol, fetched once per wallet unless ``reload``."""
        if self._markets is None or reload:
            self._markets = MappingProxyType({m.symbol: m for m in await self.get_markets()})
        return self._markets

    async def get_market(self, symbol: str) -> SymbolInfo:
        markets = await self.load_markets()
        if symbol not in markets:
            raise BadSymbol(f"{self.slug} does not list {symbol[:40]!r}")
        return markets[symbol]

    async def get_ticker(self, symbol: str) -> Ticker:
        raise self._unsupported("get_ticker")

    # ---- account ----

    @abstractmethod
    async def get_balance(self) -> Balances:
        """Per asset ``free`` / ``locked`` / ``total``."""

    @classmethod
    async def get_balances(
        cls, wallets: Sequence[BaseWallet], timeout: float
    ) -> list[Balances | BaseException]:
        """Many wallets' ``get_balance`` (wallets of this class), one outcome per wallet in order: the
        balances, or the exception that wallet's call raised (``TimeoutError`` after ``timeout`` seconds).
        The default asks each wallet on its own, side by side; a venue that answers for many wallets in
        one call overrides it (``DemoWallet``: one request to demo-exchange)."""

        async def one(wallet: BaseWallet) -> Balances:
            async with wallet:
                return await asyncio.wait_for(wallet.get_balance(), timeout)

        return list(await asyncio.gather(*(one(w) for w in wallets), return_exceptions=True))

    async def get_free_balance(self, asset: str) -> Decimal:
        entry = (await self.get_balance()).balances.get(asset)
        return entry.free if entry is not None else _ZERO

    async def ping(self) -> None:
        """The cheapest round trip that proves the wallet answers and the credentials work."""
        await self.get_balance()

    async def test_connection(self) -> ConnectionTest:
        """Time ``ping``. A definite refusal is ``success=False``; a transient error is raised for retry."""
        started = time.perf_counter()
        try:
            await self.ping()
        except WalletError as exc:
            if exc.transient:
                raise
            return self._connection_test(started, success=False, message=exc.detail)
        return self._connection_test(started, success=True, message="connected")

    def _connection_test(self, started: float, *, success: bool, message: str) -> ConnectionTest:
        latency_ms = round((time.perf_counter() - started) * 1000, 3)
        return ConnectionTest(
            success=success, latency_ms=latency_ms, message=message[:500], tested_at=self._now()
        )

    def _now(self) -> datetime:
        return datetime.now(UTC)

    # ---- trading ----

    async def create_order(
        self,
        symbol: str,
        type: OrderType | str,
        side: Side | str,
        quantity: Decimal | str,
        price: Decimal | str | None = None,
        *,
        stop_price: Decimal | str | None = None,
        time_in_force: TimeInForce | str = TimeInForce.GTC,
        client_order_id: str | None = None,
    ) -> Order:
        """ccxt's ``create_order``: validates the arguments, then ``submit_order``."""
        request = build_order_request(
            symbol,
            type,
            side,
            quantity,
            price,
            stop_price=stop_price,
            time_in_force=time_in_force,
            client_order_id=client_order_id,
        )
        return await self.submit_order(request)

    async def create_market_order(
        self, symbol: str, side: Side | str, quantity: Decimal | str, *, client_order_id: str | None = None
    ) -> Order:
        return await self.create_order(
            symbol, OrderType.MARKET, side, quantity, client_order_id=client_order_id
        )

    async def create_limit_order(
        self,
        symbol: str,
        side: Side | str,
        quantity: Decimal | str,
        price: Decimal | str,
        *,
        time_in_force: TimeInForce | str = TimeInForce.GTC,
        client_order_id: str | None = None,
    ) -> Order:
        return await self.create_order(
            symbol,
            OrderType.LIMIT,
            side,
            quantity,
            price,
            time_in_force=time_in_force,
            client_order_id=client_order_id,
        )

    async def submit_order(self, request: OrderCreate) -> Order:
        """Place an already validated order (the override point behind ``create_order``)."""
        raise self._unsupported("create_order")

    async def cancel_order(self, order_id: str, symbol: str | None = None) -> Order:
        """Cancel by order id or client order id; returns the canceled order."""
        raise self._unsupported("cancel_order")

    async def get_order(self, order_id: str, symbol: str | None = None) -> Order:
        """One order by id or client order id; ``OrderNotFound`` if the wallet has none."""
        raise self._unsupported("get_order")

    async def get_orders(
        self, symbol: str | None = None, *, status: OrderListStatus = "all", limit: int | None = None
    ) -> list[Order]:
        """Orders, newest first; ``limit`` None means the venue's default page."""
        raise self._unsupported("get_orders")

    async def get_open_orders(self, symbol: str | None = None, *, limit: int | None = None) -> list[Order]:
        return await self.get_orders(symbol, status="open", limit=limit)

    async def get_closed_orders(self, symbol: str | None = None, *, limit: int | None = None) -> list[Order]:
        return await self.get_orders(symbol, status="closed", limit=limit)

    async def get_trades(self, symbol: str | None = None, *, limit: int | None = None) -> list[Trade]:
        """My trades (fills), newest first."""
        raise self._unsupported("get_trades")

    # ---- funds (paper trading) ----

    async def deposit(self, asset: str, amount: Decimal) -> Balances:
        raise self._unsupported("deposit")

    async def withdraw(self, asset: str, amount: Decimal) -> Balances:
        raise self._unsupported("withdraw")

    async def reset(self, balances: Mapping[str, Decimal] | None = None) -> Balances:
        """Demo only: cancel open orders and set balances (default the provider's initial balances)."""
        raise self._unsupported("reset")
