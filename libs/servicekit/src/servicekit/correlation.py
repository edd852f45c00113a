"""The correlation id: starts at the HTTP request (``X-Request-ID`` or generated), travels in the
``X-Correlation-ID`` header of every NATS request made while handling it, and ends up in the events it
causes and in every log line on the way (structlog contextvars)."""

from __future__ import annotations

import re
from contextvars import ContextVar
from typing import Any

import structlog
from faststream import BaseMiddleware
from faststream.message import StreamMessage
from faststream.types import AsyncFuncAny

HEADER = "X-Correlation-ID"
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_current: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def valid(value: str | None) -> str | None:
    return value if value is not None and _VALID.fullmatch(value) else None


def current() -> str | None:
    return _current.get()


def bind(value: str | None) -> None:
    """Set the id for this task (and the tasks it starts) and for its log lines."""
    _current.set(value)
    if value is None:
        structlog.contextvars.unbind_contextvars("correlation_id")
    else:
        structlog.contextvars.bind_contextvars(correlation_id=value)


def headers() -> dict[str, str]:
    value = current()
    return {HEADER: value} if value else {}


def or_default(fallback: str | None) -> str | None:
    """The request's correlation id, else ``fallback`` (e.g. the command id)."""
    return current() or fallback


class CorrelationMiddleware(BaseMiddleware):
    """Services: take the id from the incoming message for the time it is handled."""

    async def consume_scope(self, call_next: AsyncFuncAny, msg: StreamMessage[Any]) -> Any:
        token = _current.set(valid((msg.headers or {}).get(HEADER)))
        value = _current.get()
        with structlog.contextvars.bound_contextvars(correlation_id=value):
            try:
                return await call_next(msg)
            finally:
                _current.reset(token)
