"""Facts the registry learns from other services' events, and the internal queries balance-sync uses."""

from __future__ import annotations

from decimal import Decimal

from contracts.base import Page
from contracts.errors import ErrorCode, ServiceError
from contracts.events import Event
from contracts.orders import Trade
from contracts.sync import (
    ConnectorResult,
    Connectors,
    GetConnector,
    GetConnectors,
    ListActiveWallets,
    SyncLog,
    SyncStatus,
    WalletConnector,
    WalletRef,
)
from contracts.wallets import WalletDefinition
from servicekit.coalesce import Coalescer, Outcome
from servicekit.cursors import decode_cursor, encode_cursor
from servicekit.lru import Lru
from servicekit.mongo import Document
from wallet_registry.crypto import CredentialCipher, CredentialDecryptionError
from wallet_registry.domain.pnl import Position, apply_trade
from wallet_registry.domain.wallets import WalletRecord
from wallet_registry.store import BalanceUpdate, CacheStore, RegistryStore

MAX_ATTEMPTS = 10
TRADING_CACHE_SIZE = 1000
BALANCE_BATCH = 200


class RegistryCaches:
    def __init__(self, store: RegistryStore, cipher: CredentialCipher) -> None:
        self.store = store
        self.caches = CacheStore(store.user_wallets)
        self.cipher = cipher
        self._trading: Lru[Document] = Lru(TRADING_CACHE_SIZE)  # trade counters this process last wrote
        self._balances = Coalescer(self._apply_balances, max_batch=BALANCE_BATCH)

    async def on_balance_synced(self, event: Event) -> None:
        """Cached balance from a successful sync. The syncs a consumer pull delivers together go in one
        bulk write, each still guarded by its sequence (an older or replayed one changes nothing)."""
        log = SyncLog.model_validate(event.data)
        if log.status is SyncStatus.SUCCESS:
            await self._balances.submit(
                (log.user_wallet_id, dict(log.balance_snapshot), log.synced_at, event.sequence)
            )

    async def _apply_balances(self, updates: list[BalanceUpdate]) -> list[Outcome]:
        await self.caches.apply_balances(updates)
        return [None] * len(updates)

    async def on_trade_executed(self, event: Event) -> None:
        """``total_trades`` +1 and realised PnL, once per trade: applied only above the last sequence seen.
        The counters this process last wrote are remembered, so the next trade of the wallet writes
        without reading them first (the write is conditional on ``trade_seq``: a copy made stale by
        another instance loses it and is read again)."""
        trade = Trade.model_validate(event.data)
        cached = self._trading.get(event.wallet_id)
        for _ in range(MAX_ATTEMPTS):
            doc = cached if cached is not None else await self.caches.load_trading(event.wallet_id)
            cached = None
            # A replay is one even by a stale copy: the stored sequence is never below the copy's.
            if doc is None or event.sequence <= doc.get("trade_seq", 0):
                return  # unknown wallet, or already applied (a replay)
            positions = dict(doc.get("positions") or {})
            held = positions.get(trade.symbol) or {}
            position, realised = apply_trade(
                Position(held.get("quantity", Decimal(0)), held.get("cost", Decimal(0))), trade
            )
            positions[trade.symbol] = {"quantity": position.quantity, "cost": position.cost}
            pnl = Decimal(doc.get("total_pnl", 0)) + realised
            if await self.caches.save_trading(doc, seq=event.sequence, positions=positions, pnl=pnl):
                written = {
                    "_id": doc["_id"],
                    "trade_seq": event.sequence,
                    "positions": positions,
                    "total_pnl": pnl,
                    "total_trades": doc.get("total_trades", 0) + 1,
                }
                self._trading.put(event.wallet_id, written)
                return
            self._trading.drop(event.wallet_id)
        raise ServiceError(ErrorCode.CONCURRENT_MODIFICATION, "trade counters changed concurrently")

    async def list_active(self, cmd: ListActiveWallets) -> Page[WalletRef]:
        after = decode_cursor(cmd.cursor) if cmd.cursor else None
        docs = await self.caches.list_active(limit=cmd.limit, after=after)
        refs = [WalletRef(wallet_id=str(d["_id"]), user_id=d["user_id"]) for d in docs[: cmd.limit]]
        cursor = encode_cursor(refs[-1].wallet_id) if len(docs) > cmd.limit else None
        return Page[WalletRef](items=refs, next_cursor=cursor)

    async def connector(self, cmd: GetConnector) -> WalletConnector:
        wallet = await self.store.get_wallet(cmd.user_id, cmd.wallet_id)
        if wallet is None:
            raise ServiceError(ErrorCode.WALLET_NOT_FOUND, f"wallet {cmd.wallet_id} not found")
        provider = await self.store.get_provider(wallet.provider_id, include_deleted=True)
        return self._connector(wallet, provider)

    def _connector(self, wallet: WalletRecord, provider: WalletDefinition | None) -> WalletConnector:
        if provider is None:
            raise ServiceError(ErrorCode.INVALID_PROVIDER, "this wallet's provider no longer exists")
        try:
            credentials = self.cipher.decrypt(wallet.credentials)
        except CredentialDecryptionError as exc:
            raise ServiceError(ErrorCode.CREDENTIALS_UNREADABLE, str(exc)) from None
        return WalletConnector(wallet=wallet.public(), provider=provider, credentials=credentials)

    async def connectors(self, cmd: GetConnectors) -> Connectors:
        """``connector`` for many wallets in two reads (wallets, their providers); each wallet gets its
        connector or the refusal ``connector`` would have raised for it alone."""
        wallets = await self.store.get_wallets([ref.wallet_id for ref in cmd.wallets])
        providers = await self.store.get_providers(list({w.provider_id for w in wallets.values()}))
        items: list[ConnectorResult] = []
        for ref in cmd.wallets:
            wallet = wallets.get(ref.wallet_id)
            try:
                if wallet is None or wallet.user_id != ref.user_id:
                    raise ServiceError(ErrorCode.WALLET_NOT_FOUND, f"wallet {ref.wallet_id} not found")
                connector = self._connector(wallet, providers.get(wallet.provider_id))
            except ServiceError as refusal:
                items.append(ConnectorResult(wallet_id=ref.wallet_id, error=refusal.info()))
                continue
            items.append(ConnectorResult(wallet_id=ref.wallet_id, connector=connector))
        return Connectors(items=items)
