"""Balance syncs of a wallet: run one now, list the logs. Ownership is checked with the registry first."""

from __future__ import annotations

from fastapi import APIRouter

from contracts.base import DEFAULT_PAGE_SIZE, Page
from contracts.subjects import Registry, Sync
from contracts.sync import ListSyncLogs, RunSync, SyncLog
from contracts.wallets import GetUserWallet, UserWallet
from gateway.auth import UserIdDep
from gateway.deps import BusDep
from gateway.problems import problem_responses
from gateway.routes.wallets import CursorQ, Limit, wallet_id_or_404
from servicekit.bus import ServiceBus

router = APIRouter(
    prefix="/api/v1/user-wallets/{wallet_id}",
    tags=["balance sync"],
    responses=problem_responses(401, 404, 413, 422, 503, 504),
)


async def _owned(bus: ServiceBus, user_id: str, wallet_id: str) -> str:
    wid = wallet_id_or_404(wallet_id)
    await bus.request(Registry.WALLETS_GET, GetUserWallet(user_id=user_id, wallet_id=wid), UserWallet)
    return wid


@router.post("/sync-balance", summary="Sync the wallet's balance now (returns the SyncLog; failures too)")
async def sync_balance(bus: BusDep, user_id: UserIdDep, wallet_id: str) -> SyncLog:
    wid = await _owned(bus, user_id, wallet_id)
    return await bus.request(Sync.RUN, RunSync(wallet_id=wid, user_id=user_id), SyncLog)


@router.get("/sync-logs", summary="The wallet's sync logs (newest first; kept 30 days)")
async def sync_logs(
    bus: BusDep, user_id: UserIdDep, wallet_id: str, limit: Limit = DEFAULT_PAGE_SIZE, cursor: CursorQ = None
) -> Page[SyncLog]:
    wid = await _owned(bus, user_id, wallet_id)
    cmd = ListSyncLogs(wallet_id=wid, user_id=user_id, limit=limit, cursor=cursor)
    return await bus.request(Sync.LOGS, cmd, Page[SyncLog])
