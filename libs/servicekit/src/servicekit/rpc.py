"""Request/reply plumbing: handlers return ``Reply`` envelopes; refusals and bad input become error replies.

A handler that raised would otherwise leave the requester waiting for its timeout. The exception
middleware turns ``ServiceError`` and ``ValidationError`` into an error reply, and anything else into
``internal_error`` (logged with its traceback, never with the message body).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any, ClassVar, cast

import structlog
from faststream import BaseMiddleware
from faststream.message import StreamMessage
from faststream.nats.annotations import NatsMessage
from faststream.types import AsyncFuncAny
from nats.aio.client import Client
from pydantic import BaseModel, ValidationError

from contracts.errors import ErrorCode, ErrorInfo, FieldError, ServiceError
from contracts.replies import Reply
from servicekit.consumers import fail

log = structlog.get_logger("rpc")


def ok(data: BaseModel | None) -> Reply[Any]:
    return Reply[Any](ok=True, data=data.model_dump(mode="json") if data is not None else {})


def refusal(info: ErrorInfo) -> Reply[Any]:
    return Reply[Any](ok=False, error=info)


def field_errors(exc: ValidationError) -> list[FieldError]:
    return [
        FieldError(loc=[p for p in e["loc"] if isinstance(p, str | int)], msg=e["msg"], type=e["type"])
        for e in exc.errors(include_url=False, include_input=False)
    ]


def error_reply(exc: Exception) -> Reply[Any]:
    """The reply a request gets when its handler raised."""
    if isinstance(exc, ServiceError):
        return refusal(exc.info())
    if isinstance(exc, ValidationError):
        return refusal(
            ErrorInfo(
                code=ErrorCode.VALIDATION_ERROR, detail="the command is not valid", errors=field_errors(exc)
            )
        )
    # A plain traceback (no local variables: they may hold ciphertext or a command's credentials).
    trace = "".join(traceback.format_exception(exc))
    log.error("handler_failed", error_type=type(exc).__name__, traceback=trace)
    return refusal(
        ErrorInfo(code=ErrorCode.INTERNAL_ERROR, detail="the service failed to handle the command")
    )


def _is_request(msg: StreamMessage[Any]) -> bool:
    """A core NATS request waits on an inbox; JetStream deliveries carry a ``$JS.ACK`` reply subject."""
    reply = getattr(msg.raw_message, "reply", "") or ""
    return bool(reply) and not reply.startswith("$JS.")


class Connection:
    """How the middleware reaches the service's NATS client (created after the middleware is)."""

    def __init__(self, get: Callable[[], Client]) -> None:
        self.get = get


def _is_jetstream(msg: StreamMessage[Any]) -> bool:
    return (getattr(msg.raw_message, "reply", "") or "").startswith("$JS.ACK.")


ErrorHook = Callable[[str, str], None]
"""Told ``(subject, error code)`` of every error reply (metrics)."""


class ErrorReplies(BaseMiddleware):
    """Requests get an error reply instead of a timeout. A JetStream delivery whose handler raised before
    it could settle the message (its body does not decode into the handler's model, typically) would be
    left unacknowledged and redelivered forever — stalling a consumer with ``max_ack_pending=1``: it is
    dead-lettered at once when undecodable, NAKed with backoff otherwise (``consumers.fail``)."""

    nats: ClassVar[Connection | None] = None

    async def consume_scope(self, call_next: AsyncFuncAny, msg: StreamMessage[Any]) -> Any:
        try:
            return await call_next(msg)
        except Exception as exc:
            if _is_request(msg):
                reply = error_reply(exc)
                if reply.error is not None:
                    self.replied_error(getattr(msg.raw_message, "subject", "") or "", reply.error.code.value)
                return reply
            if self.nats is None or not _is_jetstream(msg):
                raise
            delivery = cast("NatsMessage", msg)
            await fail(delivery, exc, nc=self.nats.get(), permanent=isinstance(exc, ValidationError))
            return None

    def replied_error(self, subject: str, code: str) -> None:
        """A hook for metrics (see ``error_replies``)."""


def error_replies(
    connection: Callable[[], Client] | None = None, on_error: ErrorHook | None = None
) -> type[ErrorReplies]:
    """The middleware class, bound to the service's NATS connection (for dead-lettering) and told of every
    error reply (metrics)."""
    bound = Connection(connection) if connection is not None else None
    hook = on_error

    class BoundErrorReplies(ErrorReplies):
        nats = bound

        def replied_error(self, subject: str, code: str) -> None:
            if hook is not None:
                hook(subject, code)

    return BoundErrorReplies
