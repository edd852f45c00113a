"""Demo trading on a wallet: orders, balances, trades, reset, deposits, withdrawals, test-connection."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel

from contracts.base import DEFAULT_PAGE_SIZE, Page
from contracts.errors import ErrorCode, ServiceError
from contracts.exchange import (
    AccountRef,
    FundsBody,
    ListOrders,
    ListTrades,
    MoveFunds,
    OrderListStatus,
    OrderRef,
    PlacedOrder,
    PlaceOrder,
    ResetAccount,
    ResetBody,
)
from contracts.orders import Balances, Order, OrderCreate, Trade
from contracts.subjects import Exchange, Registry
from contracts.values import Symbol
from contracts.wallets import ConnectionTest, GetUserWallet, TestConnection, UserWallet
from gateway.auth import UserIdDep
from gateway.deps import BusDep, CommandIdDep
from gateway.problems import problem_responses
from gateway.routes.wallets import CursorQ, Limit, wallet_id_or_404
from servicekit.bus import ServiceBus

router = APIRouter(
    prefix="/api/v1/user-wallets/{wallet_id}",
    tags=["demo trading"],
    responses=problem_responses(401, 404, 413, 422, 503, 504),
)


async def _exchange[T](
    bus: ServiceBus, user_id: str, wallet_id: str, subject: str, cmd: BaseModel, result: type[T]
) -> T:
    """Ask demo-exchange; a wallet it does not know is either not a demo wallet (422) or not yours (404)."""
    try:
        return await bus.request(subject, cmd, result)
    except ServiceError as refusal:
        if refusal.code is not ErrorCode.WALLET_NOT_FOUND:
            raise
        wallet = await bus.request(
            Registry.WALLETS_GET, GetUserWallet(user_id=user_id, wallet_id=wallet_id), UserWallet
        )
        if not wallet.is_demo:
            raise ServiceError(
                ErrorCode.NOT_SUPPORTED,
                f"trading is only available on demo wallets for now ({wallet.provider_slug})",
            ) from None
        raise ServiceError(
            ErrorCode.SERVICE_UNAVAILABLE, "this demo wallet's account is being opened; retry"
        ) from None


@router.post(
    "/orders",
    status_code=status.HTTP_201_CREATED,
    summary="Place an order (201; a retry with the same client_order_id and body: 200, the original)",
    responses={
        200: {"model": Order, "description": "the original order of a retried client_order_id"},
        **problem_responses(429),
        **problem_responses(409),
    },
)
async def place_order(
    request: Request, bus: BusDep, user_id: UserIdDep, wallet_id: str, body: OrderCreate, response: Response
) -> Order:
    request.app.state.order_limits.take(user_id)  # 429 with Retry-After past the per-user rate
    wid = wallet_id_or_404(wallet_id)
    placed = await _exchange(
        bus,
        user_id,
        wid,
        Exchange.ORDERS_PLACE,
        PlaceOrder(wallet_id=wid, user_id=user_id, body=body),
        PlacedOrder,
    )
    if not placed.created:
        response.status_code = status.HTTP_200_OK
    return placed.order


@router.get("/orders", summary="List orders (newest first)")
async def list_orders(
    bus: BusDep,
    user_id: UserIdDep,
    wallet_id: str,
    status_: Annotated[OrderListStatus, Query(alias="status")] = OrderListStatus.ALL,
    symbol: Symbol | None = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: CursorQ = None,
) -> Page[Order]:
    wid = wallet_id_or_404(wallet_id)
    cmd = ListOrders(
        wallet_id=wid, user_id=user_id, status=status_, symbol=symbol, limit=limit, cursor=cursor
    )
    return await _exchange(bus, user_id, wid, Exchange.ORDERS_LIST, cmd, Page[Order])


def _order_ref(order_id: str) -> str:
    if not 1 <= len(order_id) <= 64:
        raise ServiceError(ErrorCode.ORDER_NOT_FOUND, "order not found")
    return order_id


@router.get("/orders/{order_id}", summary="Get an order by id or client_order_id")
async def get_order(bus: BusDep, user_id: UserIdDep, wallet_id: str, order_id: str) -> Order:
    wid = wallet_id_or_404(wallet_id)
    cmd = OrderRef(wallet_id=wid, user_id=user_id, order_ref=_order_ref(order_id))
    return await _exchange(bus, user_id, wid, Exchange.ORDERS_GET, cmd, Order)


@router.delete(
    "/orders/{order_id}",
    summary="Cancel an open order (releases exactly what it locks)",
    responses=problem_responses(409),
)
async def cancel_order(bus: BusDep, user_id: UserIdDep, wallet_id: str, order_id: str) -> Order:
    wid = wallet_id_or_404(wallet_id)
    cmd = OrderRef(wallet_id=wid, user_id=user_id, order_ref=_order_ref(order_id))
    return await _exchange(bus, user_id, wid, Exchange.ORDERS_CANCEL, cmd, Order)


@router.get("/balances", summary="Balances per asset: free, locked, total")
async def balances(bus: BusDep, user_id: UserIdDep, wallet_id: str) -> Balances:
    wid = wallet_id_or_404(wallet_id)
    return await _exchange(
        bus, user_id, wid, Exchange.BALANCES_GET, AccountRef(wallet_id=wid, user_id=user_id), Balances
    )


@router.get("/trades", summary="My trades (newest first)")
async def trades(
    bus: BusDep,
    user_id: UserIdDep,
    wallet_id: str,
    symbol: Symbol | None = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: CursorQ = None,
) -> Page[Trade]:
    wid = wallet_id_or_404(wallet_id)
    cmd = ListTrades(wallet_id=wid, user_id=user_id, symbol=symbol, limit=limit, cursor=cursor)
    return await _exchange(bus, user_id, wid, Exchange.TRADES_LIST, cmd, Page[Trade])


@router.post("/reset", summary="Cancel open orders and set balances (history is kept)")
async def reset(
    bus: BusDep, user_id: UserIdDep, command_id: CommandIdDep, wallet_id: str, body: ResetBody | None = None
) -> Balances:
    wid = wallet_id_or_404(wallet_id)
    cmd = ResetAccount(wallet_id=wid, user_id=user_id, command_id=command_id, body=body or ResetBody())
    return await _exchange(bus, user_id, wid, Exchange.ACCOUNTS_RESET, cmd, Balances)


@router.post("/deposits", summary="Add paper funds")
async def deposit(
    bus: BusDep, user_id: UserIdDep, command_id: CommandIdDep, wallet_id: str, body: FundsBody
) -> Balances:
    wid = wallet_id_or_404(wallet_id)
    cmd = MoveFunds(wallet_id=wid, user_id=user_id, command_id=command_id, body=body)
    return await _exchange(bus, user_id, wid, Exchange.FUNDS_DEPOSIT, cmd, Balances)


@router.post("/withdrawals", summary="Remove paper funds (free balance only)")
async def withdraw(
    bus: BusDep, user_id: UserIdDep, command_id: CommandIdDep, wallet_id: str, body: FundsBody
) -> Balances:
    wid = wallet_id_or_404(wallet_id)
    cmd = MoveFunds(wallet_id=wid, user_id=user_id, command_id=command_id, body=body)
    return await _exchange(bus, user_id, wid, Exchange.FUNDS_WITHDRAW, cmd, Balances)


@router.post(
    "/test-connection", tags=["user wallets"], summary="Check the wallet's credentials and reachability"
)
async def test_connection(bus: BusDep, user_id: UserIdDep, wallet_id: str) -> ConnectionTest:
    wid = wallet_id_or_404(wallet_id)
    return await bus.request(
        Registry.WALLETS_TEST, TestConnection(user_id=user_id, wallet_id=wid), ConnectionTest
    )
