"""Prometheus metrics of a process: one ``CollectorRegistry`` per runtime (tests run several in one
process), FastStream's Prometheus middleware on the broker, and the error replies of requests.

FastStream labels a received message with its raw subject; ours end in a wallet id
(``evt.trade.executed.<wallet>``, ``sync.<ns>.jobs.<wallet>``), which would make every wallet a new time
series. The ``handler`` label is therefore the pattern of the subscription that took the message
(``evt.trade.executed.*``), and id-like tokens of published subjects are masked the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from faststream.message import StreamMessage
from faststream.nats import NatsBroker
from faststream.nats.prometheus.provider import settings_provider_factory
from faststream.prometheus import ConsumeAttrs, PrometheusMiddleware
from faststream.response import PublishCommand
from nats.aio.msg import Msg
from prometheus_client import CollectorRegistry, Counter, ProcessCollector

from contracts.subjects import tokens_match

OTHER = "other"
_ID_TOKEN = re.compile(r"^(?:[0-9a-f]{24}|[0-9a-f]{32}|[0-9a-f-]{36}|\d+)$", re.IGNORECASE)


def new_registry() -> CollectorRegistry:
    """A registry of this runtime's own, with the process's CPU, memory and file descriptors."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    return registry


def mask_ids(subject: str) -> str:
    """``sync.moniqo.jobs.6650c0ffee00000000000001`` → ``sync.moniqo.jobs.*``."""
    return ".".join("*" if _ID_TOKEN.match(token) else token for token in subject.split("."))


class SubjectPatterns:
    """The label of a received subject: the first subscription pattern of the broker that matches it."""

    def __init__(self, broker: NatsBroker) -> None:
        self._broker = broker
        self._patterns: tuple[tuple[str, tuple[str, ...]], ...] | None = None

    def patterns(self) -> tuple[str, ...]:
        return tuple(pattern for pattern, _ in self._split_patterns())

    def _split_patterns(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        if self._patterns is None:  # subscribers are all declared before the first message arrives
            found: list[str] = []
            for sub in self._broker.subscribers:
                address = getattr(sub, "subject", None)
                pattern = getattr(address, "broker_address", None)
                if isinstance(pattern, str) and pattern and pattern not in found:
                    found.append(pattern)
            self._patterns = tuple((p, tuple(p.split("."))) for p in found)  # split once, not per message
        return self._patterns

    def label(self, subject: str) -> str:
        tokens = subject.split(".")
        for pattern, pattern_tokens in self._split_patterns():
            if tokens_match(pattern_tokens, tokens):
                return pattern
        return mask_ids(subject) if subject else OTHER


class _Provider:
    """FastStream's NATS settings provider with bounded subject labels."""

    messaging_system = "nats"

    def __init__(self, inner: Any, subjects: SubjectPatterns) -> None:
        self._inner = inner
        self._subjects = subjects

    def get_consume_attrs_from_message(self, msg: StreamMessage[Any]) -> ConsumeAttrs:
        attrs: ConsumeAttrs = self._inner.get_consume_attrs_from_message(msg)
        attrs["destination_name"] = self._subjects.label(attrs["destination_name"])
        return attrs

    def get_publish_destination_name_from_cmd(self, cmd: PublishCommand) -> str:
        return mask_ids(str(self._inner.get_publish_destination_name_from_cmd(cmd)))


def broker_metrics(
    registry: CollectorRegistry, app_name: str, subjects: SubjectPatterns
) -> PrometheusMiddleware[Any, Any]:
    """FastStream's Prometheus middleware (``faststream_received_messages_total``, processing duration,
    exceptions and ack status per subscription; published messages per subject) with bounded labels."""

    def factory(msg: Msg | Sequence[Msg] | None) -> _Provider | None:
        inner = settings_provider_factory(msg)
        return None if inner is None else _Provider(inner, subjects)

    return PrometheusMiddleware(settings_provider_factory=factory, registry=registry, app_name=app_name)


class RequestErrors:
    """``moniqo_request_errors_total{subject, code}``: requests answered with an error reply (a refusal
    such as ``insufficient_funds``, or ``internal_error``), by request subject and error code."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.counter = Counter(
            "moniqo_request_errors",
            "Requests answered with an error reply, by subject and error code",
            ["subject", "code"],
            registry=registry,
        )

    def observe(self, subject: str, code: str) -> None:
        self.counter.labels(mask_ids(subject), code).inc()


class Children[K: Hashable, V]:
    """Labelled metric children looked up once per key and kept (``labels()`` validates the values and takes
    a lock on every call: most of what a metric update costs on a hot path). Bounded: past ``limit`` keys,
    new ones are looked up each time instead of kept."""

    def __init__(self, make: Callable[[K], V], limit: int = 10_000) -> None:
        self._make = make
        self._limit = limit
        self._kept: dict[K, V] = {}

    def __call__(self, key: K) -> V:
        found = self._kept.get(key)
        if found is None:
            found = self._make(key)
            if len(self._kept) < self._limit:
                self._kept[key] = found
        return found
