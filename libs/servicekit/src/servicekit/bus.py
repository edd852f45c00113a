"""Requests to services over NATS, with their failures mapped to stable error codes."""

from __future__ import annotations

import nats.errors
from faststream.nats import NatsBroker
from pydantic import BaseModel, ValidationError

from contracts.errors import ErrorCode, ServiceError
from contracts.replies import Reply
from servicekit import correlation


class ServiceBus:
    def __init__(self, broker: NatsBroker, *, timeout: float) -> None:
        self.broker = broker
        self.timeout = timeout

    async def request[T](self, subject: str, command: BaseModel, result: type[T]) -> T:
        """Send ``command``; return its result, or raise ``ServiceError`` with the service's refusal."""
        try:
            msg = await self.broker.request(
                command.model_dump_json().encode(),
                subject,
                headers={"content-type": "application/json", **correlation.headers()},
                timeout=self.timeout,
            )
        except nats.errors.NoRespondersError:
            raise ServiceError(
                ErrorCode.SERVICE_UNAVAILABLE, "no service is answering; try again shortly"
            ) from None
        except (nats.errors.TimeoutError, TimeoutError):
            raise ServiceError(ErrorCode.SERVICE_TIMEOUT, "the service did not answer in time") from None
        except (
            nats.errors.ConnectionClosedError,
            nats.errors.ConnectionReconnectingError,
            nats.errors.StaleConnectionError,
        ):
            raise ServiceError(ErrorCode.SERVICE_UNAVAILABLE, "the message bus is not reachable") from None
        try:
            reply = Reply[result].model_validate_json(msg.body)  # type: ignore[valid-type]
        except ValidationError:
            raise ServiceError(
                ErrorCode.INTERNAL_ERROR, "the service answered something unreadable"
            ) from None
        if not reply.ok:
            if reply.error is None:
                raise ServiceError(ErrorCode.INTERNAL_ERROR, "the service refused without a reason")
            raise ServiceError(reply.error.code, reply.error.detail, reply.error.errors)
        return reply.data  # type: ignore[return-value]
