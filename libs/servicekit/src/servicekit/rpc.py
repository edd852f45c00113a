"""Request/reply plumbing: handlers return ``Reply`` envelopes; refusals and bad input become error replies.

A handler that raised would otherwise leave the requester waiting for its timeout. The exception
middleware turns ``ServiceError`` and ``ValidationError`` into an error reply, and anything else into
``internal_error`` (logged with its traceback, never with the message body).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

import structlog
from faststream import BaseMiddleware
from faststream.message import StreamMessage
from faststream.types import AsyncFuncAny
from pydantic import BaseModel, ValidationError

from contracts.errors import ErrorCode, ErrorInfo, FieldError, ServiceError
from contracts.replies import Reply

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


ErrorHook = Callable[[str, str], None]
"""Told ``(subject, error code)`` of every error reply (metrics)."""


class ErrorReplies(BaseMiddleware):
    """Requests get an error reply instead of a timeout; stream consumers see the exception (their ack
    policy decides: NACK_ON_ERROR redelivers)."""

    async def consume_scope(self, call_next: AsyncFuncAny, msg: StreamMessage[Any]) -> Any:
        try:
            return await call_next(msg)
        except Exception as exc:
            if not _is_request(msg):
                raise
            reply = error_reply(exc)
            if reply.error is not None:
                self.replied_error(getattr(msg.raw_message, "subject", "") or "", reply.error.code.value)
            return reply

    def replied_error(self, subject: str, code: str) -> None:
        """A hook for metrics (see ``error_replies``)."""


def error_replies(on_error: ErrorHook | None = None) -> type[ErrorReplies]:
    if on_error is None:
        return ErrorReplies
    hook = on_error

    class CountedErrorReplies(ErrorReplies):
        def replied_error(self, subject: str, code: str) -> None:
            hook(subject, code)

    return CountedErrorReplies
