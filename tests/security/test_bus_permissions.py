"""Bus permissions on a real nats-server: each service's credential reaches only its own subjects.

The server runs with ``render_authorization`` (the same text as ``deploy/nats/permissions.conf``); every
check is a real client connection. A forbidden publish is refused by the server (nats-py reports a
``permissions violation`` to its error callback) and never reaches a subscriber; an allowed one on the
same connection, sent right after it, does — so "never delivered" is observed, not waited for.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import nats
import nats.errors
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg

from contracts.bus_permissions import (
    bus_permissions,
    inbox_prefix_for_url,
    redact_url,
    render_authorization,
    with_credentials,
)
from contracts.subjects import EventType, Exchange, QueueGroup, Registry, Sync, event_subject, tick_subject
from tests.security.conftest import SecureBus
from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]
WALLET_CREATED, ORDER_UPDATED = EventType.WALLET_CREATED, EventType.ORDER_UPDATED


class ErrorLog:
    """A connection as one bus user that records the permission errors the server sends it."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.nc: Client | None = None

    async def on_error(self, exc: Exception) -> None:
        self.errors.append(str(exc))

    def violations(self, subject: str) -> list[str]:
        return [e for e in self.errors if "permissions violation" in e.lower() and f'"{subject}"' in e]


@asynccontextmanager
async def connect_as(bus: SecureBus, user: str) -> AsyncIterator[tuple[Client, ErrorLog]]:
    probe = ErrorLog()
    url = bus.url_for(user)
    nc = await nats.connect(  # as the services connect: replies on the user's own inbox prefix
        url,
        error_cb=probe.on_error,
        allow_reconnect=False,
        name=f"test-{user}",
        inbox_prefix=inbox_prefix_for_url(url),
    )
    # A round trip first: a request sent on a brand-new connection can get a spurious "no responders"
    # (seen without any permissions too, ~1 in 70 here); the services flush before they report ready.
    await nc.flush()
    try:
        yield nc, probe
    finally:
        await nc.close()


# Who answers a subject (and in which queue group), to listen as the legitimate receiver.
RECEIVERS: dict[str, tuple[str, str | None]] = {
    "svc.registry": ("wallet-registry", QueueGroup.WALLET_REGISTRY),
    "svc.exchange": ("demo-exchange", QueueGroup.DEMO_EXCHANGE),
    "svc.sync": ("balance-sync", QueueGroup.BALANCE_SYNC),
    "market.ticks": ("demo-exchange", None),
    "evt": ("operator", None),
}


def receiver_of(subject: str) -> tuple[str, str | None]:
    return next(r for prefix, r in RECEIVERS.items() if subject.startswith(prefix + "."))


FORBIDDEN = [
    # (sender, a subject it must not publish, the allowed subject sent right after it)
    ("balance-sync", Registry.WALLETS_CREATE, Registry.WALLETS_ACTIVE),
    ("balance-sync", Exchange.ORDERS_PLACE, Exchange.BALANCES_GET),
    ("market-feed", Exchange.ORDERS_PLACE, tick_subject("BTC/USDT")),
    ("market-feed", Registry.WALLETS_CONNECTOR, tick_subject("ETH/USDT")),
    ("gateway", Registry.WALLETS_CONNECTOR, Registry.WALLETS_GET),  # decrypted credentials: internal only
    ("gateway", Registry.WALLETS_CONNECTORS, Registry.WALLETS_GET),  # the batched form, internal too
    ("gateway", Exchange.BALANCES_BATCH, Exchange.BALANCES_GET),  # any user's accounts: internal only
    ("gateway", Sync.STATS, Sync.RUN),
    ("gateway", tick_subject("BTC/USDT"), Exchange.ORDERS_PLACE),  # no forged prices
    ("wallet-registry", Exchange.ORDERS_PLACE, Exchange.ACCOUNTS_SYNC),
    ("wallet-registry", Sync.RUN, Exchange.PING),
    ("demo-exchange", Registry.WALLETS_GET, event_subject(EventType.TRADE_EXECUTED, "w1")),
    (
        "demo-exchange",
        event_subject(EventType.WALLET_CREATED, "w1"),
        event_subject(EventType.ORDER_UPDATED, "w1"),
    ),
    ("operator", Exchange.ORDERS_PLACE, Sync.STATS),
]


@pytest.mark.parametrize(("sender", "forbidden", "allowed"), FORBIDDEN, ids=str)
async def test_a_service_credential_cannot_publish_another_services_subjects(
    secure_bus: SecureBus, sender: str, forbidden: str, allowed: str
) -> None:
    receiver, queue = receiver_of(forbidden)
    allowed_receiver, allowed_queue = receiver_of(allowed)
    got: list[str] = []

    async def record(msg: Msg) -> None:
        got.append(msg.subject)

    async with (
        connect_as(secure_bus, receiver) as (listener, _),
        connect_as(secure_bus, allowed_receiver) as (allowed_listener, _),
        connect_as(secure_bus, sender) as (nc, probe),
    ):
        await listener.subscribe(forbidden, queue=queue or "", cb=record)
        await allowed_listener.subscribe(allowed, queue=allowed_queue or "", cb=record)
        await listener.flush()
        await allowed_listener.flush()

        await nc.publish(forbidden, b"{}")
        await nc.publish(allowed, b"{}")
        await nc.flush()

        await eventually(lambda: _done(allowed in got), what=f"{allowed} delivered")
        await eventually(lambda: _done(probe.violations(forbidden)), what=f"violation for {forbidden}")
        assert forbidden not in got  # refused at the server: the receiver never saw it
        assert not probe.violations(allowed)


async def _done[T](value: T) -> T:
    return value


@pytest.mark.parametrize(
    ("user", "subject", "queue"),
    [
        ("balance-sync", "svc.registry.>", QueueGroup.WALLET_REGISTRY),  # impersonating the registry
        ("gateway", "svc.exchange.>", QueueGroup.DEMO_EXCHANGE),
        ("demo-exchange", "svc.exchange.>", "not-the-service-group"),  # its subjects, another group
        ("market-feed", "_INBOX.>", None),
        ("demo-exchange", "_INBOX_balance-sync.>", None),  # the connector replies (credentials)
        ("wallet-registry", "_INBOX_gateway.>", None),  # every user's data on its way to the gateway
        ("operator", "_INBOX_balance-sync.>", None),
        ("gateway", "_INBOX.>", None),
        ("wallet-registry", tick_subject("BTC/USDT"), None),
    ],
    ids=str,
)
async def test_a_service_credential_cannot_listen_on_another_services_subjects(
    secure_bus: SecureBus, user: str, subject: str, queue: str | None
) -> None:
    async with connect_as(secure_bus, user) as (nc, probe):
        await nc.subscribe(subject, queue=queue or "")
        await nc.flush()
        await eventually(lambda: _done(probe.violations(subject)), what=f"subscription to {subject} refused")


async def test_a_request_over_the_allowed_path_gets_its_reply(secure_bus: SecureBus) -> None:
    """Queue-group responder, allow_responses, the requester's own inbox: request/reply as services do."""
    async with (
        connect_as(secure_bus, "wallet-registry") as (registry, _),
        connect_as(secure_bus, "balance-sync") as (syncer, probe),
    ):

        async def answer(msg: Msg) -> None:
            await msg.respond(b"page")

        await registry.subscribe(Registry.WALLETS_ACTIVE, queue=QueueGroup.WALLET_REGISTRY, cb=answer)
        await registry.flush()
        reply = await syncer.request(Registry.WALLETS_ACTIVE, b"{}", timeout=5)
        assert reply.data == b"page"
        assert probe.errors == []


@pytest.mark.parametrize("password", ["wrong-password-0000", None])
async def test_a_wrong_or_missing_password_is_refused(secure_bus: SecureBus, password: str | None) -> None:
    url = with_credentials(secure_bus.url, "gateway", password) if password else secure_bus.url
    with pytest.raises((nats.errors.Error, OSError)):
        await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=5)


def test_the_committed_config_is_the_rendered_table() -> None:
    committed = (ROOT / "deploy" / "nats" / "permissions.conf").read_text()
    assert committed == render_authorization("moniqo"), "regenerate: moniqo bus-permissions > deploy/nats/..."


def test_every_command_subject_is_answered_by_its_own_service_only() -> None:
    table = bus_permissions("moniqo")
    owners = {
        "wallet-registry": (Registry.all(), QueueGroup.WALLET_REGISTRY),
        "demo-exchange": (Exchange.all(), QueueGroup.DEMO_EXCHANGE),
        "balance-sync": ([Sync.RUN, Sync.LOGS, Sync.STATS], QueueGroup.BALANCE_SYNC),
    }
    for owner, (subjects, queue) in owners.items():
        for subject in subjects:
            answering = {u for u in table.users.values() if u.can_subscribe(subject, queue)}
            assert {u.name for u in answering} == {owner}, subject


def test_logged_urls_never_carry_the_password() -> None:
    url = with_credentials("nats://a:4222,nats://b:4222", "gateway", "s3cret-password-1234")
    assert url == "nats://gateway:s3cret-password-1234@a:4222,nats://gateway:s3cret-password-1234@b:4222"
    assert (
        with_credentials("127.0.0.1:4222", "feed", "0123456789abcdef")
        == "nats://feed:0123456789abcdef@127.0.0.1:4222"
    )
    shown = [redact_url(u) for u in url.split(",")]
    assert shown == ["nats://gateway:***@a:4222", "nats://gateway:***@b:4222"]
    assert redact_url("nats://token@a:4222") == "nats://***@a:4222"
    assert redact_url("nats://a:4222") == "nats://a:4222"
    assert inbox_prefix_for_url(url) == "_INBOX_gateway"
    assert inbox_prefix_for_url("nats://a:4222") == "_INBOX"
    assert redact_url("gateway:p@ss:word@a:4222") == "gateway:***@a:4222"  # no scheme, '@' in the password
