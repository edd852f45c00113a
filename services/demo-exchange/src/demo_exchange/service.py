"""Use cases of demo-exchange: the account (cached from this process's last write, else read) → pure
domain → one conditional write (state + events) → the orders into history (read-your-writes) → reply,
while the events are relayed in the background: their trades go into history first, then JetStream.

The relay runs after the reply, at most one pass per wallet at a time, on the entries this process
committed (not read back). Nothing is lost by it: the events are committed with the state, a trade not
yet in history is listed from the outbox, and the periodic sweep relays whatever a stopped process left.

Commands on one wallet are serialised inside a process (a lock per wallet) and across processes by the
account's ``version``: a write that lost the race (or was decided on a stale cached account) reloads
and re-decides, so nothing is applied twice.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import structlog
from bson import ObjectId

from contracts.base import Page
from contracts.errors import ErrorCode, ServiceError
from contracts.events import Event
from contracts.exchange import (
    AccountRef,
    ListOrders,
    ListTrades,
    MoveFunds,
    OrderRef,
    PlacedOrder,
    PlaceOrder,
    ResetAccount,
    SyncAccount,
)
from contracts.market import SymbolInfo, Tick, Ticker
from contracts.orders import Balances, Order, OrderCreate, Trade
from contracts.subjects import EventType, event_prefix
from contracts.values import OBJECT_ID
from contracts.wallets import DEFAULT_DEMO_BALANCES
from demo_exchange.domain import account as acc
from demo_exchange.domain.account import Account, AccountStatus, Change
from demo_exchange.domain.history import newest_first
from demo_exchange.domain.instruments import Instrument
from demo_exchange.domain.ledger import Ledger
from demo_exchange.domain.matching import Engine, Quote
from demo_exchange.domain.orders import OrderState
from demo_exchange.metrics import ExchangeMetrics
from demo_exchange.prices import PriceBook
from demo_exchange.projector import project_event, trade_doc_of
from demo_exchange.settings import ExchangeSettings
from demo_exchange.store import ExchangeStore, order_from_doc, trade_to_doc
from servicekit import correlation
from servicekit.clock import now_ms
from servicekit.cursors import decode_seq_cursor, encode_cursor
from servicekit.lru import Lru
from servicekit.mongo import Document
from servicekit.outbox import outbox_entry

Relay = Callable[[str, list[Document]], Awaitable[None]]  # a wallet's committed outbox entries → JetStream
log = structlog.get_logger("demo-exchange")
MAX_ATTEMPTS = 20
MAX_CLOCK_SKEW = timedelta(seconds=60)
ORDER_SUBJECT_PREFIX = event_prefix(EventType.ORDER_UPDATED)
TRADE_SUBJECT_PREFIX = event_prefix(EventType.TRADE_EXECUTED)
MAX_REMEMBERED_PROJECTIONS = 10_000


def _usable(account: Account | None, wallet_id: str, user_id: str | None) -> Account:
    """The account a command may act on: it exists, and a user's command finds only their open one."""
    if account is None or (
        user_id is not None and (account.user_id != user_id or account.status is AccountStatus.CLOSED)
    ):
        raise _wallet_not_found(wallet_id)
    return account


def _wallet_not_found(wallet_id: str) -> ServiceError:
    return ServiceError(ErrorCode.WALLET_NOT_FOUND, f"wallet {wallet_id} not found")


class _Replay(Exception):
    """The client_order_id was already accepted with this very request: answer with that order."""

    def __init__(self, order_id: str) -> None:
        self.order_id = order_id


class _NotOpen(Exception):
    """The order to cancel is not among the account's open orders."""


class ExchangeService:
    def __init__(
        self,
        store: ExchangeStore,
        engine: Engine,
        instruments: dict[str, Instrument],
        prices: PriceBook,
        relay: Relay,
        metrics: ExchangeMetrics,
        *,
        account_cache_size: int = 1000,
    ) -> None:
        self.store = store
        # The accounts this process last wrote: a command decides on one and writes conditionally on its
        # version (a stale one costs a failed write and a reload; refusals are re-decided on a fresh read).
        self.accounts: Lru[Account] = Lru(account_cache_size)
        # Events this process committed and has not relayed yet: an order's (already projected: None) or a
        # trade's history document (built from the fill, inserted by the relay).
        self._projected: dict[str, Document | None] = {}
        self.engine = engine
        self.instruments = instruments
        self.prices = prices
        self._publish = relay
        self.metrics = metrics
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._relaying: dict[str, asyncio.Task[None]] = {}
        self._unrelayed: dict[str, list[Document]] = {}  # committed here, for the wallet's relay pass

    @classmethod
    def configured(
        cls, store: ExchangeStore, settings: ExchangeSettings, relay: Relay, metrics: ExchangeMetrics
    ) -> ExchangeService:
        """The engine, instruments, empty price book and account cache that `settings` describe."""
        return cls(
            store,
            Engine(slippage=settings.slippage),
            settings.instruments(),
            PriceBook(),
            relay,
            metrics,
            account_cache_size=settings.account_cache_size,
        )

    def _lock(self, wallet_id: str) -> asyncio.Lock:
        lock = self._locks.get(wallet_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[wallet_id] = lock
        return lock

    def _relay_later(self, wallet_id: str, entries: list[Document]) -> None:
        """Relay the outbox entries just committed, after the reply, in order; one pass per wallet at a
        time (entries committed meanwhile go in its next round). They are not read back from the store:
        what this process committed it knows; what a stopped process left, the sweep relays."""
        if not entries:
            return
        self._unrelayed.setdefault(wallet_id, []).extend(entries)
        if wallet_id not in self._relaying:
            self._relaying[wallet_id] = asyncio.create_task(self._relay(wallet_id))

    async def _relay(self, wallet_id: str) -> None:
        try:
            while entries := self._unrelayed.pop(wallet_id, None):
                await self._publish(wallet_id, entries)
        finally:
            del self._relaying[wallet_id]

    async def relayed(self) -> None:
        """Wait for the background relays started so far (tests, benchmarks, shutdown)."""
        while self._relaying:
            await asyncio.gather(*self._relaying.values(), return_exceptions=True)

    def instrument(self, symbol: str) -> Instrument:
        found = self.instruments.get(symbol)
        if found is None:
            raise ServiceError(ErrorCode.UNKNOWN_SYMBOL, f"{symbol} is not traded here")
        return found

    # ---- the one write path ----

    async def _mutate(
        self,
        wallet_id: str,
        user_id: str | None,
        decide: Callable[[Account], Change],
        correlation_id: str | None,
    ) -> Change:
        async with self._lock(wallet_id):
            cached = self.accounts.get(wallet_id)
            for _ in range(MAX_ATTEMPTS):
                fresh = cached is None
                account = cached if cached is not None else await self.store.load(wallet_id, user_id)
                cached = None  # any further attempt reads the store
                try:
                    change = decide(_usable(account, wallet_id, user_id))
                except Exception:
                    if fresh:
                        raise
                    continue  # decided on the cache: a refusal only counts on a fresh read
                assert account is not None
                if not change.changed and change.account == account:
                    if fresh:
                        return change
                    continue  # nothing to do, says the cache: make sure on a fresh read
                now = change.account.updated_at
                new, events = acc.build_events(change, now, correlation.or_default(correlation_id))
                new = _bump(new, account.version)
                entries = [outbox_entry(e) for e in events]
                if await self.store.save(new, expected_version=account.version, outbox=entries):
                    self.accounts.put(wallet_id, new)
                    self.metrics.committed(change)
                    await self._project_orders(change, new, events)
                    self._relay_later(wallet_id, entries)
                    return Change(
                        new, change.orders, change.fills, change.balance_changes, change.ledger_moved
                    )
                self.accounts.drop(wallet_id)
                await asyncio.sleep(0)  # another process wrote first: reload and decide again
        raise ServiceError(ErrorCode.CONCURRENT_MODIFICATION, "the wallet is busy; try again")

    async def _project_orders(self, change: Change, account: Account, events: list[Event]) -> None:
        """The orders' new states into history before the reply (reads and client ids find them at
        once); their trades go in with the relay, after the reply (``project_before_relay``)."""
        orders, fills = iter(change.orders), iter(change.fills)  # build_events: orders, then trades
        if len(self._projected) >= MAX_REMEMBERED_PROJECTIONS:
            self._projected.clear()  # relayed elsewhere (a sweep): at worst projected twice, or parsed
        for event in events:
            if event.event_type is EventType.ORDER_UPDATED:
                await self.store.project_order(next(orders), account.user_id, event.sequence)
                self._projected[event.event_id] = None
            elif event.event_type is EventType.TRADE_EXECUTED:
                self._projected[event.event_id] = trade_to_doc(next(fills), account.wallet_id, event.sequence)

    async def project_before_relay(self, entries: list[Document]) -> None:
        """Every relay (after a command, or the sweep of what a stopped process left) calls this before
        it publishes and removes outbox entries: each order or trade is in history by the time it
        leaves the outbox, so it is always in one or the other (``list_trades`` merges both)."""
        trades: list[Document] = []
        for entry in entries:
            event_id = entry["event_id"]
            if event_id in self._projected:
                doc = self._projected.pop(event_id)
                if doc is not None:
                    trades.append(doc)
            elif entry["subject"].startswith(TRADE_SUBJECT_PREFIX):
                trades.append(trade_doc_of(Event.model_validate_json(entry["payload"])))
            elif entry["subject"].startswith(ORDER_SUBJECT_PREFIX):
                await project_event(self.store, Event.model_validate_json(entry["payload"]))
        await self.store.project_trades(trades)

    # ---- accounts ----

    async def sync_account(self, cmd: SyncAccount) -> None:
        """Open, update or close the demo account to match the registry (idempotent, ordered by sequence)."""
        wallet = cmd.wallet
        if not wallet.is_demo:
            return
        now = now_ms()
        existing = await self.store.load(wallet.id)
        if existing is None:
            if cmd.deleted:
                return
            opened = Account(
                wallet_id=wallet.id,
                user_id=wallet.user_id,
                ledger=Ledger.of(dict(wallet.balance)),  # the registry already applied the default
                funding=dict(wallet.balance),
                created_at=now,
                updated_at=now,
                is_active=wallet.is_active,
                risk_limits=wallet.risk_limits,
                registry_sequence=cmd.registry_sequence,
                version=1,
            )
            opened, events = acc.build_events(Change(opened, ledger_moved=True), now, f"open:{wallet.id}")
            entries = [outbox_entry(e) for e in events]
            if await self.store.insert(opened, entries):
                self.accounts.put(wallet.id, opened)
                self._relay_later(wallet.id, entries)
                return
            # Another delivery opened it first: fall through to apply this one as an update.

        def decide(account: Account) -> Change:
            if cmd.registry_sequence <= account.registry_sequence or account.status is AccountStatus.CLOSED:
                return Change(account)
            if cmd.deleted:
                closed = acc.close_account(account, self.engine, now)
                return Change(
                    _with_registry(closed.account, cmd),
                    closed.orders,
                    closed.fills,
                    closed.balance_changes,
                    True,
                )
            updated = _with_registry(account, cmd)
            return Change(updated)

        await self._mutate(wallet.id, None, decide, f"sync:{wallet.id}:{cmd.registry_sequence}")

    async def balances(self, ref: AccountRef) -> Balances:
        account = await self._account(ref)
        return Balances(
            wallet_id=account.wallet_id,
            balances=acc.balances_view(account.ledger),
            updated_at=account.updated_at,
        )

    async def _account(self, ref: AccountRef) -> Account:
        return _usable(await self.store.load(ref.wallet_id, ref.user_id), ref.wallet_id, ref.user_id)

    async def reset(self, cmd: ResetAccount) -> Balances:
        balances = dict(cmd.body.balances) if cmd.body.balances is not None else dict(DEFAULT_DEMO_BALANCES)
        return await self._balance_command(
            cmd, lambda a: acc.reset_account(a, self.engine, balances, now_ms())
        )

    async def deposit(self, cmd: MoveFunds) -> Balances:
        body = cmd.body
        return await self._balance_command(cmd, lambda a: acc.deposit(a, body.asset, body.amount, now_ms()))

    async def withdraw(self, cmd: MoveFunds) -> Balances:
        body = cmd.body
        return await self._balance_command(cmd, lambda a: acc.withdraw(a, body.asset, body.amount, now_ms()))

    async def _balance_command(
        self, cmd: ResetAccount | MoveFunds, decide: Callable[[Account], Change]
    ) -> Balances:
        change = await self._mutate(cmd.wallet_id, cmd.user_id, decide, cmd.command_id)
        return self._balances_of(change.account)

    @staticmethod
    def _balances_of(account: Account) -> Balances:
        return Balances(
            wallet_id=account.wallet_id,
            balances=acc.balances_view(account.ledger),
            updated_at=account.updated_at,
        )

    # ---- orders ----

    async def place(self, cmd: PlaceOrder) -> PlacedOrder:
        try:
            return await self._place(cmd)
        except ServiceError as exc:
            self.metrics.rejected(exc.code)  # a refused placement: no order was created
            raise

    async def _place(self, cmd: PlaceOrder) -> PlacedOrder:
        body = cmd.body
        if body.client_order_id is not None and OBJECT_ID.fullmatch(body.client_order_id):
            raise ServiceError(
                ErrorCode.VALIDATION_ERROR,
                "client_order_id must not look like an order id (24 hex characters)",
            )
        instrument = self.instrument(body.symbol)
        client_order_id = body.client_order_id or uuid.uuid4().hex
        fingerprint = acc.request_fingerprint(body)
        order_id = str(ObjectId())
        if body.client_order_id is not None:
            # Beyond the account's memory of recent ids, the order history answers (unique per wallet).
            older = await self.store.find_by_client_order_id(cmd.wallet_id, cmd.user_id, body.client_order_id)
            if older is not None:
                previous = order_from_doc(older)
                if not _same_request(previous, body):
                    raise _conflict(body.client_order_id)
                return PlacedOrder(order=previous.public(), created=False)

        def decide(account: Account) -> Change:
            remembered = account.recent_by_client_id(client_order_id)
            if remembered is not None:
                if remembered.fingerprint != fingerprint:
                    raise _conflict(client_order_id)
                raise _Replay(remembered.order_id)
            return acc.place_order(
                account,
                self.engine,
                instrument,
                body,
                order_id=order_id,
                client_order_id=client_order_id,
                quote=self.prices.get(body.symbol),
                now=now_ms(),
            )

        try:
            change = await self._mutate(cmd.wallet_id, cmd.user_id, decide, client_order_id)
        except _Replay as replay:
            return await self._replayed(cmd, replay.order_id)
        (order,) = change.orders
        return PlacedOrder(order=order.public(), created=True)

    async def _replayed(self, ref: AccountRef, order_id: str) -> PlacedOrder:
        """The original order: from history, else from the pending events of the write that created it
        (another process may have committed it and not yet projected it)."""
        doc = await self.store.find_order(ref.wallet_id, ref.user_id, order_id)
        if doc is not None:
            return PlacedOrder(order=order_from_doc(doc).public(), created=False)
        pending = await self.store.pending_order(ref.wallet_id, order_id)
        if pending is not None:
            return PlacedOrder(order=pending, created=False)
        doc = await self.store.find_order(ref.wallet_id, ref.user_id, order_id)  # projected meanwhile
        if doc is not None:
            return PlacedOrder(order=order_from_doc(doc).public(), created=False)
        raise ServiceError(ErrorCode.CONCURRENT_MODIFICATION, "the original order is being recorded; retry")

    async def cancel(self, cmd: OrderRef) -> Order:
        def decide(account: Account) -> Change:
            order = account.find_open(cmd.order_ref)
            if order is None:
                raise _NotOpen
            return acc.cancel_order(account, self.engine, order, now_ms())

        try:
            change = await self._mutate(cmd.wallet_id, cmd.user_id, decide, f"cancel:{cmd.order_ref}")
        except _NotOpen:
            doc = await self.store.find_order(cmd.wallet_id, cmd.user_id, cmd.order_ref)
            if doc is None:
                raise ServiceError(ErrorCode.ORDER_NOT_FOUND, f"order {cmd.order_ref} not found") from None
            raise ServiceError(
                ErrorCode.ORDER_NOT_OPEN, f"order {cmd.order_ref} is already {doc['status']}"
            ) from None
        return change.orders[0].public()

    async def get_order(self, cmd: OrderRef) -> Order:
        await self._account(cmd)
        doc = await self.store.find_order(cmd.wallet_id, cmd.user_id, cmd.order_ref)
        if doc is None:
            raise ServiceError(ErrorCode.ORDER_NOT_FOUND, f"order {cmd.order_ref} not found")
        return order_from_doc(doc).public()

    async def list_orders(self, cmd: ListOrders) -> Page[Order]:
        await self._account(cmd)
        docs, cursor = await self.store.list_orders(
            cmd.wallet_id,
            cmd.user_id,
            status=cmd.status.value,
            symbol=cmd.symbol,
            limit=cmd.limit,
            cursor=cmd.cursor,
        )
        return Page[Order](items=[order_from_doc(d).public() for d in docs], next_cursor=cursor)

    async def list_trades(self, cmd: ListTrades) -> Page[Trade]:
        """History merged with the trades still in the outbox: a trade is listed from its reply on."""
        account, pending = await self.store.load_with_pending(
            cmd.wallet_id, cmd.user_id, TRADE_SUBJECT_PREFIX
        )
        _usable(account, cmd.wallet_id, cmd.user_id)
        below = decode_seq_cursor(cmd.cursor) if cmd.cursor is not None else None
        docs = await self.store.list_trades(cmd.wallet_id, symbol=cmd.symbol, limit=cmd.limit, below=below)
        stored = [(int(d["seq"]), str(d["_id"]), _trade(d)) for d in docs]
        pending_trades = [(e.sequence, Trade.model_validate(e.data)) for e in pending]
        trades = [(seq, t.id, t) for seq, t in pending_trades if cmd.symbol in (None, t.symbol)]
        page, more_below = newest_first(stored, trades, limit=cmd.limit, below=below)
        cursor = encode_cursor(str(more_below)) if more_below is not None else None
        return Page[Trade](items=page, next_cursor=cursor)

    # ---- market ----

    def symbols(self) -> list[SymbolInfo]:
        return [i.info() for i in sorted(self.instruments.values(), key=lambda i: i.symbol)]

    def ticker(self, symbol: str) -> Ticker:
        self.instrument(symbol)
        quote = self.prices.get(symbol)
        if quote is None:
            raise ServiceError(ErrorCode.NO_MARKET_PRICE, f"no price is known yet for {symbol}")
        return Ticker(symbol=symbol, price=quote.price, ts=quote.ts, source=quote.source)

    async def on_tick(self, tick: Tick) -> int:
        """Persist the quote, then wake every resting order it triggers; returns the number of fills."""
        instrument = self.instruments.get(tick.symbol)
        if instrument is None:
            return 0
        if tick.ts > datetime.now(UTC) + MAX_CLOCK_SKEW:
            log.warning("tick_from_the_future_ignored", symbol=tick.symbol, ts=tick.ts.isoformat())
            return 0
        self.prices.update(tick)
        if not await self.store.save_price(tick):
            return 0  # an older tick arriving late: it must not fill anything at its stale price
        quote = Quote(price=tick.price, ts=tick.ts, source=tick.source)
        fills = 0
        for wallet_id in await self.store.wallets_triggered_by(tick.symbol, tick.price):
            try:
                change = await self._mutate(
                    wallet_id,
                    None,
                    lambda a: acc.apply_tick(a, self.engine, instrument, quote, now_ms()),
                    f"tick:{tick.symbol}:{tick.ts.isoformat()}",
                )
            except ServiceError:
                continue  # closed meanwhile, or busy: the next tick tries again
            except Exception as exc:  # one broken wallet must not stop the others' fills
                log.error(
                    "tick_wallet_failed", wallet_id=wallet_id, error=type(exc).__name__, detail=str(exc)[:200]
                )
                continue
            fills += len(change.fills)
        if fills:
            log.info("tick_filled", symbol=tick.symbol, price=str(tick.price), fills=fills)
        return fills

    async def warm_prices(self) -> None:
        for doc in await self.store.load_prices():
            self.prices.update(
                Tick(symbol=doc["_id"], price=doc["price"], ts=doc["ts"], source=doc["source"])
            )


def _bump(account: Account, previous_version: int) -> Account:
    return replace(account, version=previous_version + 1)


def _same_request(order: OrderState, body: OrderCreate) -> bool:
    return (
        order.symbol,
        order.side,
        order.type,
        order.time_in_force,
        order.quantity,
        order.price,
        order.stop_price,
    ) == (
        body.symbol,
        body.side,
        body.type,
        body.time_in_force,
        body.quantity,
        body.price,
        body.stop_price,
    )


def _with_registry(account: Account, cmd: SyncAccount) -> Account:
    return replace(
        account,
        is_active=cmd.wallet.is_active and not cmd.deleted,
        risk_limits=cmd.wallet.risk_limits,
        registry_sequence=cmd.registry_sequence,
    )


def _conflict(ref: str) -> ServiceError:
    return ServiceError(
        ErrorCode.DUPLICATE_CLIENT_ORDER_ID, f"client_order_id {ref} was already used with a different order"
    )


def _trade(doc: dict[str, object]) -> Trade:
    quote = doc["quote"]
    assert isinstance(quote, dict)
    return Trade.model_validate(
        {
            "id": doc["_id"],
            "order_id": doc["order_id"],
            "symbol": doc["symbol"],
            "side": doc["side"],
            "quantity": doc["quantity"],
            "price": doc["price"],
            "quote_amount": doc["quote_amount"],
            "fee": {"asset": doc["fee_asset"], "amount": doc["fee_amount"]},
            "liquidity": doc["liquidity"],
            "quote": quote,
            "executed_at": doc["executed_at"],
        }
    )
