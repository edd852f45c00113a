"""``X-Request-ID``: taken from the client when well-formed, generated otherwise, echoed in the response,
and carried as the correlation id into every NATS request, log line and event the request causes."""

from __future__ import annotations

import os

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekit import correlation

HEADER = "x-request-id"
_HEADER_KEY = HEADER.encode()


# Generated ids: 32 hex digits of OS randomness, like a uuid4's. ``uuid4()`` asks the kernel for 16 bytes
# per request (a getrandom syscall: ~5 % of the gateway's CPU under the bench P1 load); the bytes are taken
# 256 ids at a time instead (one event loop per process: no two requests share a slice).
class _Ids:
    BATCH = 256

    def __init__(self) -> None:
        self._pool = ""
        self._taken = 0

    def __call__(self) -> str:
        if self._taken >= len(self._pool):
            self._pool = os.urandom(16 * self.BATCH).hex()
            self._taken = 0
        start = self._taken
        self._taken += 32
        return self._pool[start : self._taken]


new_id = _Ids()


class RequestId:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = None
        for name, value in scope.get("headers") or ():
            if name == _HEADER_KEY:
                given = value.decode("latin-1")
        request_id = correlation.valid(given) or new_id()
        correlation.bind(request_id)

        async def with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, with_header)
        finally:
            correlation.bind(None)
