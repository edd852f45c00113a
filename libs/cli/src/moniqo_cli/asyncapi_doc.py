"""The AsyncAPI document of Moniqo's NATS interface, generated from the services' real brokers.

Commands (``svc.*`` request/reply), the JetStream work queue and the event consumers come from the
subscribers each service registers on its broker: the runtimes are built without connecting anything.
Events (``evt.*``) leave through the transactional outbox relay, not through FastStream publishers, so
each producing service's broker gets documentation-only publishers declaring them (never used to send).

``moniqo docs asyncapi --write`` regenerates the committed copies (``docs/asyncapi.json`` and the one
the gateway serves); a test fails when they no longer match the code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI
from pydantic import SecretStr

from balance_sync.app import SyncRuntime
from balance_sync.settings import SyncSettings
from contracts.events import EVENT_MODELS
from contracts.market import Tick
from contracts.subjects import EVENTS_PREFIX, EVENTS_STREAM, TICKS_PREFIX, EventType
from demo_exchange.app import ExchangeRuntime
from demo_exchange.settings import ExchangeSettings
from gateway.asyncapi import BUNDLED_DOCUMENT
from servicekit.lifecycle import ServiceRuntime
from wallet_registry.app import RegistryRuntime
from wallet_registry.settings import RegistrySettings

TITLE = "Moniqo messaging API"
VERSION = "1.0.0"
REGENERATE = "moniqo docs asyncapi --write"
REPO_ROOT = Path(__file__).resolve().parents[4]
COMMITTED = REPO_ROOT / "docs" / "asyncapi.json"

DESCRIPTION = f"""
Every NATS subject Moniqo's services answer or publish on.

**Commands** (`svc.*`) are NATS request/reply in a queue group named after the service (scale by adding
processes). Every reply is the envelope `{{"ok": true, "data": …}}` or
`{{"ok": false, "error": {{"code", "detail", "errors"}}}}` with a stable `code`.

**Events** (`evt.<type>.<wallet_id>`) are published on the JetStream stream `{EVENTS_STREAM}` by each
service's transactional outbox relay, with header `Nats-Msg-Id: <event_id>`. Every event is the
envelope `{{event_id, event_type, occurred_at, wallet_id, user_id, sequence, correlation_id, data}}`;
`sequence` increases by one per wallet within each producing service.

**balance-sync's work queue** (`sync.<prefix>.*`, shown with the default prefix `moniqo`) is namespaced
by `MONGODB_DB_PREFIX`; its jobs are JetStream messages, not requests.

Amounts are decimal strings. Regenerate this document with `{REGENERATE}`.
"""

# Which service's outbox relay publishes each event type.
PRODUCERS: dict[str, tuple[EventType, ...]] = {
    "wallet-registry": (EventType.WALLET_CREATED, EventType.WALLET_UPDATED, EventType.WALLET_DELETED),
    "demo-exchange": (EventType.ORDER_UPDATED, EventType.TRADE_EXECUTED, EventType.BALANCE_CHANGED),
    "balance-sync": (EventType.BALANCE_SYNCED,),
}

FEED = "market-feed"

# What each ``{parameter}`` of a documented channel address stands for.
PARAMETERS = {
    "wallet_id": "the wallet the event is about",
    "pair": "the symbol with a dash instead of the slash, e.g. BTC-USDT for BTC/USDT",
}

# Fixed settings (never the environment): the document depends on the code alone.
_COMMON: dict[str, Any] = {
    "nats_url": "nats://localhost:4222",
    "mongodb_url": "mongodb://localhost:27017/?directConnection=true",
    "mongodb_db_prefix": "moniqo",
}


def _runtimes() -> list[ServiceRuntime]:
    """Each service's runtime as its process builds it; the Mongo clients are lazy (nothing connects)."""
    key = SecretStr(Fernet.generate_key().decode())
    return [
        RegistryRuntime(RegistrySettings.model_construct(**_COMMON, encryption_keys=key)),
        ExchangeRuntime(ExchangeSettings.model_construct(**_COMMON)),
        SyncRuntime(SyncSettings.model_construct(**_COMMON), timer=False),
    ]


def _declare_events(service: str, broker: NatsBroker) -> None:
    for event_type in PRODUCERS[service]:
        model = EVENT_MODELS[event_type]
        broker.publisher(
            f"{EVENTS_PREFIX}.{event_type.value}.{{wallet_id}}",
            title=f"{EVENTS_PREFIX}.{event_type.value}",
            description=f"Published by {service} (outbox relay, stream {EVENTS_STREAM}). {model.__doc__}",
            schema=model,
        )


def _feed_broker() -> NatsBroker:
    """The market feed (``python -m demo_exchange.feed``) publishes ticks with a plain NATS client; any
    process may publish them too."""
    broker = NatsBroker(_COMMON["nats_url"])
    broker.publisher(
        f"{TICKS_PREFIX}.{{pair}}",
        title=TICKS_PREFIX,
        description=(
            "Price ticks: published by the market feed (python -m demo_exchange.feed) or any other process; "
            "demo-exchange prices market orders with them and fills resting orders they cross."
        ),
        schema=Tick,
    )
    return broker


def _tag_operations(document: dict[str, Any], service: str, operations: set[str]) -> None:
    for name in operations:
        document["operations"][name]["tags"] = [{"name": service}]


def _declare_parameters(document: dict[str, Any]) -> None:
    """AsyncAPI 3 wants every ``{param}`` of a channel address declared."""
    for channel in document["channels"].values():
        if names := re.findall(r"\{(\w+)\}", channel["address"]):
            channel["parameters"] = {name: {"description": PARAMETERS[name]} for name in names}


async def build_document() -> dict[str, Any]:
    runtimes = _runtimes()
    try:
        brokers: dict[str, NatsBroker] = {r.name: r.broker for r in runtimes}
        for service, broker in brokers.items():
            _declare_events(service, broker)
        brokers[FEED] = _feed_broker()
        per_service = {
            service: set(AsyncAPI(broker).to_specification().to_jsonable()["operations"])
            for service, broker in brokers.items()
        }
        spec = AsyncAPI(*brokers.values(), title=TITLE, version=VERSION, description=DESCRIPTION.strip())
        document: dict[str, Any] = spec.to_specification().to_jsonable()
    finally:
        for runtime in runtimes:
            await runtime.mongo.close()
    for service, operations in per_service.items():
        _tag_operations(document, service, operations)
    _declare_parameters(document)
    return document


def render(document: dict[str, Any]) -> str:
    """Stable text: sorted keys, two-space indent, a final newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def committed_copies() -> list[Path]:
    """Where the document is committed: ``docs/asyncapi.json`` and the copy the gateway serves."""
    return [COMMITTED, BUNDLED_DOCUMENT]
