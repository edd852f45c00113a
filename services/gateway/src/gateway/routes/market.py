"""Market data: the traded symbols and the last price per symbol."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import Response

from contracts.base import Page
from contracts.errors import ErrorCode, ServiceError
from contracts.exchange import GetTicker, Ping
from contracts.market import SymbolInfo, Ticker, symbol_from_token
from contracts.subjects import Exchange
from gateway.auth import UserIdDep
from gateway.deps import BusDep
from gateway.problems import problem_responses
from servicekit.bus import ServiceBus

router = APIRouter(
    prefix="/api/v1/market", tags=["market data"], responses=problem_responses(401, 422, 503, 504)
)
_PAIR = re.compile(r"^[A-Z0-9]{2,12}-[A-Z0-9]{2,12}$")


@router.get("/symbols", summary="Symbols with their precision, minimums and fee rates")
async def symbols(bus: BusDep, _: UserIdDep) -> list[SymbolInfo]:
    page = await bus.request(Exchange.MARKET_SYMBOLS, Ping(), Page[SymbolInfo])
    return page.items


TICKER_PATH = "/tickers/{pair}"


@router.get(
    TICKER_PATH,
    summary="Last price of BASE-QUOTE (e.g. BTC-USDT); 404 until a price is known",
    responses=problem_responses(404),
    response_model=Ticker,
)
async def ticker(request: Request, _: UserIdDep, pair: str) -> Response:
    # The bus from the app's state rather than a dependency (FastAPI's cost per dependency was ~8 %).
    # Requests with a plain path are answered before routing (gateway.fastpath), the same way.
    return Response(await ticker_json(request.app.state.bus, pair), media_type="application/json")


async def ticker_json(bus: ServiceBus, pair: str) -> bytes:
    """The hottest read: the reply's Ticker (validated by the bus) serialised once — the same JSON FastAPI
    would make from the model, without its second validation pass."""
    if not _PAIR.fullmatch(pair):
        raise ServiceError(ErrorCode.UNKNOWN_SYMBOL, "use BASE-QUOTE, e.g. BTC-USDT")
    try:
        command = GetTicker(symbol=symbol_from_token(pair))
        return await bus.request_json(Exchange.MARKET_TICKER, command, Ticker)
    except ServiceError as refusal:
        if refusal.code in {ErrorCode.NO_MARKET_PRICE, ErrorCode.UNKNOWN_SYMBOL}:
            raise ServiceError(ErrorCode.NOT_FOUND, refusal.detail) from None
        raise
