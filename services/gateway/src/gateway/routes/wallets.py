"""``/wallets/definitions`` and ``/user-wallets``: thin mappings from HTTP to registry commands."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from contracts.base import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page
from contracts.errors import ErrorCode, ServiceError
from contracts.replies import Empty
from contracts.subjects import Registry
from contracts.values import OBJECT_ID, Cursor
from contracts.wallets import (
    CreateUserWallet,
    DeleteUserWallet,
    GetProvider,
    GetUserWallet,
    IntegrationType,
    ListProviders,
    ListUserWallets,
    UpdateUserWallet,
    UserWallet,
    UserWalletCreate,
    UserWalletUpdate,
    WalletDefinition,
)
from gateway.auth import UserIdDep
from gateway.deps import BusDep, CommandIdDep
from gateway.problems import problem_responses

router = APIRouter(prefix="/api/v1", responses=problem_responses(401, 413, 422, 503, 504))

_PROVIDER_REF = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="page size (1-200)")]
CursorQ = Annotated[Cursor | None, Query(description="next_cursor of the previous page")]


def wallet_id_or_404(value: str) -> str:
    # Anything that is not one of our ids is simply not found (indistinguishable from another user's).
    if not OBJECT_ID.fullmatch(value):
        raise ServiceError(ErrorCode.WALLET_NOT_FOUND, f"wallet {value[:64]} not found")
    return value


@router.get("/wallets/definitions", tags=["wallet definitions"], summary="List wallet providers")
async def list_definitions(
    bus: BusDep,
    _: UserIdDep,
    integration_type: IntegrationType | None = None,
    is_demo: bool | None = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: CursorQ = None,
) -> Page[WalletDefinition]:
    cmd = ListProviders(integration_type=integration_type, is_demo=is_demo, limit=limit, cursor=cursor)
    return await bus.request(Registry.PROVIDERS_LIST, cmd, Page[WalletDefinition])


@router.get(
    "/wallets/definitions/{id_or_slug}",
    tags=["wallet definitions"],
    summary="Get one wallet provider by id or slug",
    responses=problem_responses(404),
)
async def get_definition(bus: BusDep, _: UserIdDep, id_or_slug: str) -> WalletDefinition:
    if not _PROVIDER_REF.fullmatch(id_or_slug):
        raise ServiceError(ErrorCode.PROVIDER_NOT_FOUND, f"wallet provider '{id_or_slug[:64]}' not found")
    return await bus.request(Registry.PROVIDERS_GET, GetProvider(ref=id_or_slug), WalletDefinition)


@router.post(
    "/user-wallets",
    status_code=status.HTTP_201_CREATED,
    tags=["user wallets"],
    summary="Connect a wallet (demo or exchange)",
    responses=problem_responses(409),
)
async def create_wallet(
    bus: BusDep, user_id: UserIdDep, command_id: CommandIdDep, body: UserWalletCreate
) -> UserWallet:
    cmd = CreateUserWallet(command_id=command_id, user_id=user_id, body=body)
    return await bus.request(Registry.WALLETS_CREATE, cmd, UserWallet)


@router.get("/user-wallets", tags=["user wallets"], summary="List my wallets (newest first)")
async def list_wallets(
    bus: BusDep, user_id: UserIdDep, limit: Limit = DEFAULT_PAGE_SIZE, cursor: CursorQ = None
) -> Page[UserWallet]:
    cmd = ListUserWallets(user_id=user_id, limit=limit, cursor=cursor)
    return await bus.request(Registry.WALLETS_LIST, cmd, Page[UserWallet])


@router.get(
    "/user-wallets/{wallet_id}",
    tags=["user wallets"],
    summary="Get one of my wallets",
    responses=problem_responses(404),
)
async def get_wallet(bus: BusDep, user_id: UserIdDep, wallet_id: str) -> UserWallet:
    cmd = GetUserWallet(user_id=user_id, wallet_id=wallet_id_or_404(wallet_id))
    return await bus.request(Registry.WALLETS_GET, cmd, UserWallet)


@router.put(
    "/user-wallets/{wallet_id}",
    tags=["user wallets"],
    summary="Rename, (de)activate, re-key or change risk limits",
    responses=problem_responses(404, 409),
)
async def update_wallet(
    bus: BusDep, user_id: UserIdDep, command_id: CommandIdDep, wallet_id: str, body: UserWalletUpdate
) -> UserWallet:
    cmd = UpdateUserWallet(
        command_id=command_id, user_id=user_id, wallet_id=wallet_id_or_404(wallet_id), body=body
    )
    return await bus.request(Registry.WALLETS_UPDATE, cmd, UserWallet)


@router.delete(
    "/user-wallets/{wallet_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["user wallets"],
    summary="Delete a wallet (soft delete: gone from the API, kept for audit)",
    responses=problem_responses(404),
)
async def delete_wallet(
    bus: BusDep, user_id: UserIdDep, command_id: CommandIdDep, wallet_id: str
) -> Response:
    cmd = DeleteUserWallet(command_id=command_id, user_id=user_id, wallet_id=wallet_id_or_404(wallet_id))
    await bus.request(Registry.WALLETS_DELETE, cmd, Empty)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
