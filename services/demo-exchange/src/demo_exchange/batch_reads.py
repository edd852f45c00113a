"""Batched reads for balance-sync's sweep: many demo accounts' balances in one request and one store
read (``svc.exchange.balances.batch``), each answered as ``svc.exchange.balances.get`` would answer it
alone (the balances, or ``wallet_not_found`` for a missing, closed or another user's account).

Kept apart from the order path on purpose: a read-only query over ``demo_wallet_state`` that never
takes a wallet's lock or writes anything."""

from __future__ import annotations

from typing import Any

from faststream.nats import NatsBroker

from contracts.errors import ErrorCode, ErrorInfo
from contracts.exchange import BalancesBatch, BalancesResult, GetBalancesBatch
from contracts.orders import Balances
from contracts.replies import Reply
from contracts.subjects import Exchange, QueueGroup
from demo_exchange.domain import account as acc
from demo_exchange.domain.account import AccountStatus
from demo_exchange.store import ExchangeStore, ledger_from_doc
from servicekit.mongo import Document
from servicekit.rpc import ok

BALANCE_FIELDS = {"user_id": 1, "status": 1, "balances": 1, "updated_at": 1}


def balances_result(wallet_id: str, user_id: str, doc: Document | None) -> BalancesResult:
    if doc is None or doc["user_id"] != user_id or doc["status"] == AccountStatus.CLOSED.value:
        info = ErrorInfo(code=ErrorCode.WALLET_NOT_FOUND, detail=f"wallet {wallet_id} not found")
        return BalancesResult(wallet_id=wallet_id, error=info)
    view = acc.balances_view(ledger_from_doc(doc))
    balances = Balances(wallet_id=wallet_id, balances=view, updated_at=doc["updated_at"])
    return BalancesResult(wallet_id=wallet_id, balances=balances)


async def balances_batch(store: ExchangeStore, cmd: GetBalancesBatch) -> BalancesBatch:
    ids = list(dict.fromkeys(ref.wallet_id for ref in cmd.accounts))
    docs = {d["_id"]: d async for d in store.state.find({"_id": {"$in": ids}}, BALANCE_FIELDS)}
    return BalancesBatch(
        items=[balances_result(r.wallet_id, r.user_id, docs.get(r.wallet_id)) for r in cmd.accounts]
    )


def register_batch_reads(broker: NatsBroker, store: ExchangeStore, *, workers: int) -> None:
    @broker.subscriber(Exchange.BALANCES_BATCH, queue=QueueGroup.DEMO_EXCHANGE.value, max_workers=workers)
    async def balances_of_many(cmd: GetBalancesBatch) -> Reply[Any]:
        return ok(await balances_batch(store, cmd))
