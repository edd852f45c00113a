"""Request/reply plumbing: handlers return ``Reply`` envelopes; refusals and bad input become error replies.

A handler that raised would otherwise leave the requester waiting for its timeout. The exception
middleware turns ``ServiceError`` and ``ValidationError`` into an error reply, and anything else into
``internal_error`` (logged with its traceback, never with the message body).
"""

from __future__ import annotations

import traceback
from typing import Any

import structlog
from faststream import ExceptionMiddleware
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


def _on_service_error(exc: ServiceError) -> Reply[Any]:
    return refusal(exc.info())


def _on_validation_error(exc: ValidationError) -> Reply[Any]:
    return refusal(
        ErrorInfo(
            code=ErrorCode.VALIDATION_ERROR, detail="the command is not valid", errors=field_errors(exc)
        )
    )


def _on_unexpected(exc: Exception) -> Reply[Any]:
    # A plain traceback (no local variables: they may hold ciphertext or a command's credentials).
    trace = "".join(traceback.format_exception(exc))
    log.error("handler_failed", error_type=type(exc).__name__, traceback=trace)
    return refusal(
        ErrorInfo(code=ErrorCode.INTERNAL_ERROR, detail="the service failed to handle the command")
    )


def error_replies() -> ExceptionMiddleware:
    return ExceptionMiddleware(
        publish_handlers={
            ServiceError: _on_service_error,
            ValidationError: _on_validation_error,
            Exception: _on_unexpected,
        }
    )
