"""Wallet events reach JetStream through the outbox: exactly once, in order, even after a crash."""

from __future__ import annotations

from datetime import timedelta

from bson import ObjectId
from nats.aio.client import Client

from contracts.events import WalletEvent
from contracts.subjects import EventType, Registry, event_subject
from contracts.wallets import CreateUserWallet, UserWalletCreate
from servicekit.clock import now_ms
from servicekit.outbox import OUTBOX_FIELD, OutboxRelay, outbox_entry
from tests.support.events import at_least, events_for
from tests.support.factories import binance_credentials, binance_wallet_body, demo_wallet_body, user_id
from tests.support.registry import ask
from tests.support.waiting import eventually
from wallet_registry.app import RegistryRuntime
from wallet_registry.domain.wallets import open_wallet


async def test_created_event_arrives_exactly_once_even_if_relay_publishes_twice(
    registry: RegistryRuntime, nc: Client
) -> None:
    user = user_id()
    reply = await ask(
        nc,
        Registry.WALLETS_CREATE,
        CreateUserWallet(
            command_id="c", user_id=user, body=UserWalletCreate.model_validate(demo_wallet_body())
        ),
    )
    wallet_id = reply.data["id"]
    subject = event_subject(EventType.WALLET_CREATED, wallet_id)
    first = await eventually(at_least(nc, wallet_id, 1), what="created event in stream")
    event_id = first[0][2]
    # Publish the very same entry again, as a relay restarting after a crash would.
    relay = OutboxRelay(registry.store.user_wallets, nc)
    await relay.publish_entries([{"event_id": event_id, "subject": subject, "payload": first[0][1].decode()}])
    await relay.publish_entries([{"event_id": event_id, "subject": subject, "payload": first[0][1].decode()}])
    assert relay.duplicates == 2
    events = await events_for(nc, wallet_id)
    assert [(s, i) for s, _, i in events] == [(subject, event_id)]
    assert b'"sequence":1' in events[0][1]


async def test_event_committed_before_a_crash_is_relayed_by_the_sweep(
    registry: RegistryRuntime, nc: Client
) -> None:
    store = registry.store
    provider = await store.get_provider("demo-v1")
    assert provider is not None
    change = open_wallet(
        wallet_id=str(ObjectId()),
        user_id=user_id(),
        provider=provider,
        body=UserWalletCreate.model_validate(demo_wallet_body()),
        credentials=registry.cipher.encrypt({}),
        now=now_ms() - timedelta(seconds=5),
        correlation_id=None,
    )
    # The state and its event are committed, and the process "dies" before publishing.
    await store.insert_wallet(change, command_id="crash-1", fingerprint="f")
    relay = OutboxRelay(store.user_wallets, nc)
    await relay.sweep(older_than=timedelta(seconds=1))  # (the service's own sweeper may get there first)
    events = await eventually(at_least(nc, change.wallet.id, 1), what="the committed event in the stream")
    assert [i for _, _, i in events] == [change.event.event_id]
    doc = await store.user_wallets.find_one({"_id": ObjectId(change.wallet.id)})
    assert doc is not None
    assert doc[OUTBOX_FIELD] == []
    assert await relay.flush(ObjectId(change.wallet.id)) == 0


async def test_lifecycle_events_are_ordered_with_gapless_sequences_and_no_secrets(
    registry: RegistryRuntime, nc: Client
) -> None:
    user = user_id()
    creds = binance_credentials()
    created = await ask(
        nc,
        Registry.WALLETS_CREATE,
        CreateUserWallet(
            command_id="c",
            user_id=user,
            body=UserWalletCreate.model_validate(binance_wallet_body(credentials=creds)),
        ),
    )
    wallet_id = created.data["id"]
    new_creds = binance_credentials()
    await ask(
        nc,
        Registry.WALLETS_UPDATE,
        {"command_id": "u", "user_id": user, "wallet_id": wallet_id, "body": {"credentials": new_creds}},
    )
    await ask(nc, Registry.WALLETS_DELETE, {"command_id": "d", "user_id": user, "wallet_id": wallet_id})
    events = await eventually(at_least(nc, wallet_id, 3), what="three lifecycle events")
    subjects = [s for s, _, _ in events]
    assert subjects == [
        event_subject(EventType.WALLET_CREATED, wallet_id),
        event_subject(EventType.WALLET_UPDATED, wallet_id),
        event_subject(EventType.WALLET_DELETED, wallet_id),
    ]
    assert [b'"sequence":%d' % n in data for n, (_, data, _) in enumerate(events, start=1)] == [True] * 3
    raw = await registry.store.user_wallets.find_one({"_id": ObjectId(wallet_id)})
    assert raw is not None
    tokens = list(raw["credentials"].values())
    for _, data, _ in events:
        for secret in [*creds.values(), *new_creds.values(), *tokens]:
            assert secret.encode() not in data


async def test_outbox_entry_holds_the_exact_event_and_its_subject(registry: RegistryRuntime) -> None:
    provider = await registry.store.get_provider("demo-v1")
    assert provider is not None
    change = open_wallet(
        wallet_id=str(ObjectId()),
        user_id=user_id(),
        provider=provider,
        body=UserWalletCreate.model_validate(demo_wallet_body()),
        credentials=registry.cipher.encrypt({}),
        now=now_ms(),
        correlation_id="corr-1",
    )
    entry = outbox_entry(change.event)
    assert entry["event_id"] == change.event.event_id
    assert entry["subject"] == f"evt.wallet.created.{change.wallet.id}"
    assert WalletEvent.model_validate_json(entry["payload"]) == change.event
