"""Every NATS subject, stream and queue-group name in one place."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Final


class QueueGroup(StrEnum):
    """Request handlers subscribe in a queue group named after their service (scale by adding processes)."""

    WALLET_REGISTRY = "wallet-registry"
    DEMO_EXCHANGE = "demo-exchange"
    BALANCE_SYNC = "balance-sync"


class EventType(StrEnum):
    ORDER_UPDATED = "order.updated"
    TRADE_EXECUTED = "trade.executed"
    BALANCE_CHANGED = "balance.changed"
    BALANCE_SYNCED = "balance.synced"
    WALLET_CREATED = "wallet.created"
    WALLET_UPDATED = "wallet.updated"
    WALLET_DELETED = "wallet.deleted"


EVENTS_STREAM: Final = "MONIQO_EVENTS"
EVENTS_PREFIX: Final = "evt"
EVENTS_WILDCARD: Final = "evt.>"
EVENTS_DUPLICATE_WINDOW_SECONDS: Final = 120


def event_subject(event_type: EventType, wallet_id: str) -> str:
    """``evt.<type>.<wallet_id>`` — one subject per type, wallet id last."""
    return f"{EVENTS_PREFIX}.{event_type.value}.{wallet_id}"


def tokens_match(pattern: Sequence[str], subject: Sequence[str]) -> bool:
    """NATS wildcard matching over split subjects: ``*`` is one token, a trailing ``>`` one or more."""
    for i, part in enumerate(pattern):
        if part == ">":
            return len(subject) > i
        if i >= len(subject) or part not in ("*", subject[i]):
            return False
    return len(pattern) == len(subject)


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS wildcard matching: ``*`` is one token, a trailing ``>`` one or more."""
    return tokens_match(pattern.split("."), subject.split("."))


def event_prefix(event_type: EventType) -> str:
    """What every subject of one event type starts with, e.g. ``evt.trade.executed.``."""
    return f"{EVENTS_PREFIX}.{event_type.value}."


def event_filter(event_type: EventType) -> str:
    """Every wallet's events of one type, e.g. ``evt.wallet.created.*``."""
    return f"{EVENTS_PREFIX}.{event_type.value}.*"


class Registry:
    """wallet-registry command subjects (request/reply, queue group ``wallet-registry``)."""

    PROVIDERS_LIST: Final = "svc.registry.providers.list"
    PROVIDERS_GET: Final = "svc.registry.providers.get"
    WALLETS_CREATE: Final = "svc.registry.wallets.create"
    WALLETS_LIST: Final = "svc.registry.wallets.list"
    WALLETS_GET: Final = "svc.registry.wallets.get"
    WALLETS_UPDATE: Final = "svc.registry.wallets.update"
    WALLETS_DELETE: Final = "svc.registry.wallets.delete"
    WALLETS_TEST: Final = "svc.registry.wallets.test"
    WALLETS_ACTIVE: Final = "svc.registry.wallets.active"
    WALLETS_CONNECTOR: Final = "svc.registry.wallets.connector"
    WALLETS_CONNECTORS: Final = "svc.registry.wallets.connectors"

    @classmethod
    def all(cls) -> list[str]:
        return [v for k, v in vars(cls).items() if k.isupper() and isinstance(v, str)]


def all_subjects() -> list[str]:
    """Every concrete subject and wildcard filter the platform uses (for validation and bus permissions)."""
    return [
        *Registry.all(),
        *Exchange.all(),
        *Sync.all(),
        Sync.job("moniqo", "6650c0ffee00000000000001"),
        EVENTS_WILDCARD,
        TICKS_WILDCARD,
        tick_subject("BTC/USDT"),
        *(event_filter(t) for t in EventType),
    ]


TICKS_PREFIX: Final = "market.ticks"
TICKS_WILDCARD: Final = "market.ticks.>"


def tick_subject(symbol: str) -> str:
    """``market.ticks.BTC-USDT`` for ``BTC/USDT``."""
    return f"{TICKS_PREFIX}.{symbol.replace('/', '-')}"


class Exchange:
    """demo-exchange command subjects (request/reply, queue group ``demo-exchange``)."""

    ACCOUNTS_SYNC: Final = "svc.exchange.accounts.sync"
    ACCOUNTS_RESET: Final = "svc.exchange.accounts.reset"
    FUNDS_DEPOSIT: Final = "svc.exchange.funds.deposit"
    FUNDS_WITHDRAW: Final = "svc.exchange.funds.withdraw"
    BALANCES_GET: Final = "svc.exchange.balances.get"
    BALANCES_BATCH: Final = "svc.exchange.balances.batch"
    ORDERS_PLACE: Final = "svc.exchange.orders.place"
    ORDERS_CANCEL: Final = "svc.exchange.orders.cancel"
    ORDERS_GET: Final = "svc.exchange.orders.get"
    ORDERS_LIST: Final = "svc.exchange.orders.list"
    TRADES_LIST: Final = "svc.exchange.trades.list"
    MARKET_SYMBOLS: Final = "svc.exchange.market.symbols"
    MARKET_TICKER: Final = "svc.exchange.market.ticker"
    PING: Final = "svc.exchange.ping"

    @classmethod
    def all(cls) -> list[str]:
        return [v for k, v in vars(cls).items() if k.isupper() and isinstance(v, str)]


class Sync:
    """balance-sync subjects: commands (queue group ``balance-sync``) and its work-queue stream.

    The work queue is per deployment namespace (``MONGODB_DB_PREFIX``): a JetStream work queue allows one
    consumer per subject, so two deployments (or test stacks) on one NATS server each get their own.
    """

    RUN: Final = "svc.sync.run"
    LOGS: Final = "svc.sync.logs"
    STATS: Final = "svc.sync.stats"
    DLQ_STREAM: Final = "MONIQO_DLQ"  # shared by every service's consumers (servicekit.consumers)
    DLQ_WILDCARD: Final = "dlq.>"

    @staticmethod
    def stream(ns: str) -> str:
        return f"MONIQO_SYNC_{ns.upper()}"

    @staticmethod
    def subjects(ns: str) -> str:
        return f"sync.{ns}.>"

    @staticmethod
    def sweep(ns: str) -> str:
        return f"sync.{ns}.sweep"

    @staticmethod
    def maintenance(ns: str) -> str:
        return f"sync.{ns}.maintenance"

    @staticmethod
    def jobs(ns: str) -> str:
        return f"sync.{ns}.jobs.*"

    @staticmethod
    def job(ns: str, wallet_id: str) -> str:
        return f"sync.{ns}.jobs.{wallet_id}"

    @staticmethod
    def dead(subject: str) -> str:
        """Where a poison message goes: ``dlq.<its subject>``."""
        return f"dlq.{subject}"

    @classmethod
    def all(cls, ns: str = "moniqo") -> list[str]:
        return [
            cls.RUN,
            cls.LOGS,
            cls.STATS,
            cls.sweep(ns),
            cls.maintenance(ns),
            cls.jobs(ns),
            cls.DLQ_WILDCARD,
        ]
