"""Durable JetStream consumers that never drop a message silently.

Handlers ack manually through ``settle``: success → ack; failure → NAK with exponential backoff; the
``max_deliver``-th failure → the message is copied to the ``MONIQO_DLQ`` stream (``dlq.<subject>``, with
the error in a header) and acked, so the consumer keeps going. The server-side ``max_deliver`` is a
backstop set above ours. Durable names carry the deployment's prefix (``MONGODB_DB_PREFIX``) so two
environments sharing a NATS server never share a consumer, and a new consumer starts at new messages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.annotations import NatsMessage
from nats.aio.client import Client
from nats.js.api import ConsumerConfig, DeliverPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

DLQ_STREAM = "MONIQO_DLQ"
DLQ_SUBJECTS = "dlq.>"
DEFAULT_MAX_DELIVER = 8
log = structlog.get_logger("consumers")


def durable_name(prefix: str, name: str) -> str:
    return f"{prefix}-{name}".replace(".", "-")


NEW = DeliverPolicy.NEW
"""Event consumers start at new messages (pass as the subscriber's ``deliver_policy``)."""
ALL = DeliverPolicy.ALL
"""A deployment's own work queue is read from its start."""


def consumer_config(
    max_deliver: int = DEFAULT_MAX_DELIVER, *, ack_wait: float = 30.0, max_ack_pending: int | None = None
) -> ConsumerConfig:
    """``max_deliver`` is the caller's ``settle`` limit; it is kept in the signature for readability."""
    del max_deliver
    return ConsumerConfig(
        # No server-side limit: settle() acks (after dead-lettering) at max_deliver itself, and a message
        # whose dead-letter copy could not be written is kept and retried with backoff, never dropped.
        max_deliver=-1,
        ack_wait=ack_wait,
        max_ack_pending=max_ack_pending,
    )


def durable_subscriber(
    broker: NatsBroker,
    subject: str,
    *,
    stream: JStream,
    durable: str,
    batch_size: int,
    deliver_policy: DeliverPolicy = NEW,
    config: ConsumerConfig | None = None,
    **extra: Any,
) -> Callable[[Callable[..., Awaitable[None]]], object]:
    """The one shape of every Moniqo JetStream consumer: durable, pulled in batches, acked by the handler
    itself through ``settle`` (manual acks), with ``consumer_config``'s server settings."""
    subscriber: Callable[[Callable[..., Awaitable[None]]], object] = broker.subscriber(
        subject,
        stream=stream,
        durable=durable,
        pull_sub=PullSub(batch_size=batch_size, timeout=1.0),
        ack_policy=AckPolicy.MANUAL,
        deliver_policy=deliver_policy,
        config=config or consumer_config(),
        **extra,
    )
    return subscriber


def retry_delay(delivered: int, base: float = 0.5, cap: float = 30.0) -> float:
    """Exponential backoff, in seconds, for the n-th failed delivery."""
    return min(cap, base * 2.0 ** max(0, delivered - 1))


async def ensure_dead_letter_stream(nc: Client) -> None:
    jsm = nc.jsm()
    try:
        await jsm.stream_info(DLQ_STREAM)
    except NotFoundError:
        config = StreamConfig(
            name=DLQ_STREAM,
            subjects=[DLQ_SUBJECTS],
            storage=StorageType.FILE,
            retention=RetentionPolicy.LIMITS,
            max_age=30 * 24 * 3600.0,
        )
        try:
            await jsm.add_stream(config)
        except Exception:
            await jsm.stream_info(DLQ_STREAM)  # created by another instance meanwhile


async def dead_letter(nc: Client, msg: NatsMessage, error: str) -> None:
    meta = msg.raw_message.metadata
    headers = {"Nats-Msg-Id": f"dead:{meta.stream}:{meta.sequence.stream}", "Moniqo-Error": error[:500]}
    await nc.jetstream(timeout=5).publish(
        f"dlq.{msg.raw_message.subject}", msg.raw_message.data, headers=headers
    )


async def settle(
    msg: NatsMessage,
    work: Awaitable[object],
    *,
    nc: Client,
    max_deliver: int = DEFAULT_MAX_DELIVER,
    retry_base: float = 0.5,
) -> None:
    """Run ``work`` for one delivery and ack, NAK with backoff, or dead-letter it."""
    try:
        await work
    except Exception as exc:
        await fail(msg, exc, nc=nc, max_deliver=max_deliver, retry_base=retry_base)
        return
    await msg.ack()


async def fail(
    msg: NatsMessage,
    exc: Exception,
    *,
    nc: Client,
    max_deliver: int = DEFAULT_MAX_DELIVER,
    retry_base: float = 0.5,
    permanent: bool = False,
) -> None:
    """A delivery failed: NAK it with backoff, or dead-letter it at the last attempt (at once if
    ``permanent``: a message that cannot be decoded never will be)."""
    delivered = msg.raw_message.metadata.num_delivered
    error = f"{type(exc).__name__}: {exc}"
    if delivered >= max_deliver or permanent:
        try:
            await dead_letter(nc, msg, error)
        except Exception:  # the DLQ is unreachable too: keep the message, try again later
            await msg.nack(delay=retry_delay(delivered, retry_base))
            log.error("dead_letter_failed", subject=msg.raw_message.subject, attempts=delivered)
            return
        await msg.ack()
        log.error("dead_lettered", subject=msg.raw_message.subject, attempts=delivered, error=error[:200])
        return
    await msg.nack(delay=retry_delay(delivered, retry_base))
    log.warning("retry", subject=msg.raw_message.subject, attempt=delivered, error=error[:200])
