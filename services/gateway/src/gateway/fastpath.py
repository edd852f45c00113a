"""The ticker read answered before FastAPI's router: ``GET /api/v1/market/tickers/{pair}``.

It is the most frequent request and the cheapest for the services behind it (demo-exchange answers it from
memory), so the gateway's own per-request work is most of its cost: in the bench P1 profile ~80 % of the
gateway's CPU for a ticker was Starlette's and FastAPI's (exception middleware, route matching, dependency
solving, the response object). This pure ASGI layer sits inside the request id, metrics and body-limit
middlewares and answers exactly what the FastAPI route answers — the same functions decide: the bearer
check (``auth.bearer_user``), the ticker (``market.ticker_json``) and the refusals as problem+json
(``problems.refusal_response``). Everything else (other methods and paths, a ``root_path`` deployment) goes
on to FastAPI, which still owns the route for OpenAPI and answers it the same way.
"""

from __future__ import annotations

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from contracts.errors import ServiceError
from gateway.auth import TokenVerifier, bearer_user
from gateway.problems import refusal_response
from gateway.routes import market
from servicekit.bus import ServiceBus

PATH = market.router.prefix + market.TICKER_PATH
PREFIX = PATH.removesuffix("{pair}")
_JSON = [(b"content-type", b"application/json")]


class TickerFastPath:
    def __init__(self, app: ASGIApp, *, bus: ServiceBus, verifier: TokenVerifier) -> None:
        self.app = app
        self.bus = bus
        self.verifier = verifier
        # What routing records in the scope for this route (the metrics label requests by its template).
        self.route: BaseRoute = next(r for r in market.router.routes if getattr(r, "path", None) == PATH)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        pair = _pair(scope)
        if pair is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route
        try:
            bearer_user(_header(scope, b"authorization"), self.verifier)
            body = await market.ticker_json(self.bus, pair)
        except ServiceError as refusal:
            await refusal_response(refusal)(scope, receive, send)
            return
        headers = [*_JSON, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _pair(scope: Scope) -> str | None:
    """The ``{pair}`` of a GET on the ticker path, as the router would match it (one non-empty path segment);
    None for anything this layer leaves to FastAPI."""
    if scope["type"] != "http" or scope["method"] != "GET" or scope.get("root_path"):
        return None
    path: str = scope["path"]
    if not path.startswith(PREFIX):
        return None
    pair = path[len(PREFIX) :]
    return pair if pair and "/" not in pair else None


def _header(scope: Scope, name: bytes) -> str | None:
    """The first value of a header (ASGI servers give lower-case names), as Starlette's ``headers.get``."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")  # type: ignore[no-any-return]
    return None
