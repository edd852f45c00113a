"""Request/reply plumbing: handlers return ``Reply`` envelopes; refusals and bad input become error replies.

A handler that raised would otherwise leave the requester waiting for its timeout. The exception
middleware turns ``ServiceError`` and ``ValidationError`` into an error reply, and anything else into
``internal_error`` (logged with its traceback, never with the message body).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, ClassVar, cast

import structlog
from faststream import BaseMiddleware
from faststream.message import StreamMessage
from faststream.message.utils import decode_message
from faststream.nats import NatsBroker
from faststream.nats.annotations import NatsMessage
from faststream.prometheus.container import MetricsContainer
from faststream.prometheus.types import ProcessingStatus
from faststream.types import AsyncFuncAny
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from prometheus_client import CollectorRegistry
from pydantic import BaseModel, TypeAdapter, ValidationError

from contracts.errors import ErrorCode, ErrorInfo, FieldError, ServiceError
from contracts.replies import Reply
from servicekit import correlation
from servicekit.consumers import fail

log = structlog.get_logger("rpc")


def ok(data: BaseModel | None) -> Reply[Any]:
    return Reply[Any](ok=True, data=data.model_dump(mode="json") if data is not None else {})


def refusal(info: ErrorInfo) -> Reply[Any]:
    return Reply[Any](ok=False, error=info)


def field_errors(exc: ValidationError, loc: tuple[str, ...] = ()) -> list[FieldError]:
    return [
        FieldError(
            loc=[*loc, *(p for p in e["loc"] if isinstance(p, str | int))], msg=e["msg"], type=e["type"]
        )
        for e in exc.errors(include_url=False, include_input=False)
    ]


def error_reply(exc: Exception, loc: tuple[str, ...] = ()) -> Reply[Any]:
    """The reply a request gets when its handler raised (``loc``: where the command sits, for
    validation errors)."""
    if isinstance(exc, ServiceError):
        return refusal(exc.info())
    if isinstance(exc, ValidationError):
        return refusal(
            ErrorInfo(
                code=ErrorCode.VALIDATION_ERROR,
                detail="the command is not valid",
                errors=field_errors(exc, loc),
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


# ---- memory-only requests on the NATS client's own subscription -------------------------------------

_JSON = "application/json"
_REPLY_HEADERS = {"content-type": _JSON}
_COMMAND_LOC = ("cmd",)  # where FastStream puts the handler's command in validation errors

Handler = Callable[[Any], Awaitable[Reply[Any]]]


@dataclass(frozen=True)
class _Route:
    subject: str
    queue: str | None
    command: TypeAdapter[Any]
    handler: Handler
    subscriber: Any  # the FastStream subscriber that documents the subject and owns the subscription


class MemoryResponder:
    """Requests whose answer is in memory (market data, ping), answered from a plain nats-py queue-group
    subscription instead of FastStream's per-message pipeline (middlewares, fast-depends, the reply's
    encoding): ~50 % of demo-exchange's CPU per ticker request under the bench P1 load, for a dictionary
    lookup.

    The handler is the FastStream subscriber's own function, declared on the broker as usual (so the
    AsyncAPI document, the metrics' subject patterns and a broker that is never bound — ``TestNatsBroker``
    — see no difference); ``bind()`` gives that subscriber a subscription of ours with the same subject
    and queue group, so FastStream skips making its own and unsubscribes ours on stop. What a requester
    sees does not change: the command is decoded and validated as FastStream does (``content-type``
    rules; errors located under ``cmd``); refusals, invalid commands and failures get the same error
    replies, counted in ``moniqo_request_errors_total``; a failure is logged with the request's
    correlation id; each request is counted in FastStream's ``faststream_received_*`` families with the
    same labels. Replies carry ``content-type`` (and FastStream's ``correlation_id`` header when the
    request had one). Handlers run one at a time: they must not wait on I/O.
    """

    BROKER = "nats"

    def __init__(
        self,
        broker: NatsBroker,
        registry: CollectorRegistry,
        app_name: str,
        on_error: ErrorHook | None = None,
    ) -> None:
        self._broker = broker
        self._registry = registry
        self._app = app_name
        self._routes: dict[str, _Route] = {}
        self._metrics: dict[str, tuple[Any, ...]] = {}
        self._on_error = on_error  # told of every error reply, as the broker's ErrorReplies is (metrics)
        self.subscriptions: dict[str, Subscription] = {}  # subject → ours, once bound

    def answer(self, subscriber: Any, command: type[BaseModel], handler: Handler) -> None:
        """Serve ``subscriber`` (a core NATS FastStream subscriber) by calling ``handler`` directly."""
        subject = subscriber.subject.broker_address
        route = _Route(subject, subscriber.queue or None, TypeAdapter(command), handler, subscriber)
        self._routes[subject] = route

    async def bind(self) -> None:
        """Subscribe every declared subject (after ``broker.connect()``, before ``broker.start()``)."""
        nc = self._broker.connection
        container = MetricsContainer(self._registry, custom_label_names=())
        for route in self._routes.values():
            if route.subscriber.subscription is not None:
                continue
            labels = (self._app, self.BROKER, route.subject)
            self._metrics[route.subject] = (
                container.received_messages_total.labels(*labels),
                container.received_messages_size_bytes.labels(*labels),
                container.received_messages_in_process.labels(*labels),
                container.received_processed_messages_duration_seconds.labels(*labels),
                container.received_processed_messages_total.labels(*labels, ProcessingStatus.acked.value),
            )
            queue = route.queue or ""
            subscription: Subscription = await nc.subscribe(route.subject, queue=queue, cb=self._serve)
            route.subscriber.subscription = subscription
            self.subscriptions[route.subject] = subscription

    async def _serve(self, msg: Msg) -> None:
        route = self._routes[msg.subject]
        received, size, in_process, duration, processed = self._metrics[route.subject]
        received.inc()
        size.observe(len(msg.data))
        in_process.inc()
        started = time.perf_counter()
        try:
            body = await self._reply(route, msg)
            if msg.reply:
                headers = _REPLY_HEADERS
                if msg.headers and (request_id := msg.headers.get("correlation_id")):
                    headers = {**_REPLY_HEADERS, "correlation_id": request_id}
                await self._broker.connection.publish(msg.reply, body, headers=headers)
        finally:
            duration.observe(time.perf_counter() - started)
            in_process.dec()
            processed.inc()

    async def _reply(self, route: _Route, msg: Msg) -> bytes:
        content_type = msg.headers.get("content-type") if msg.headers else None
        try:
            if content_type is None or content_type.startswith(_JSON):
                try:
                    cmd = route.command.validate_json(msg.data)
                except ValidationError:
                    cmd = self._decode(route, msg.data, content_type)  # FastStream's way, for its errors
            else:
                cmd = self._decode(route, msg.data, content_type)
            reply = await route.handler(cmd)
        except Exception as exc:
            request_id = correlation.valid((msg.headers or {}).get(correlation.HEADER))
            with structlog.contextvars.bound_contextvars(correlation_id=request_id):
                reply = error_reply(exc, _COMMAND_LOC)
            if reply.error is not None and self._on_error is not None:
                self._on_error(route.subject, reply.error.code.value)
        return reply.model_dump_json().encode()

    @staticmethod
    def _decode(route: _Route, data: bytes, content_type: str | None) -> Any:
        """FastStream's decoding (JSON by content type, or JSON if it parses), then validation."""
        message = SimpleNamespace(body=data, content_type=content_type)
        return route.command.validate_python(decode_message(message))  # type: ignore[arg-type]
