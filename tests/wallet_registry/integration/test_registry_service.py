"""wallet-registry over real NATS request/reply and a real Mongo wire server."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import bson
from bson import ObjectId
from nats.aio.client import Client

from contracts.subjects import Registry
from contracts.wallets import CreateUserWallet, UserWalletCreate
from servicekit.mongo import CODEC_OPTIONS
from tests.support.events import at_least
from tests.support.factories import binance_credentials, binance_wallet_body, demo_wallet_body, user_id
from tests.support.registry import ask, start_registry
from tests.support.waiting import eventually
from wallet_registry.app import RegistryRuntime
from wallet_registry.domain.catalog import CATALOG


def create_cmd(user: str, body: dict[str, Any], command_id: str = "cmd-1") -> CreateUserWallet:
    return CreateUserWallet(command_id=command_id, user_id=user, body=UserWalletCreate.model_validate(body))


async def test_catalog_is_seeded_once_and_operator_edits_survive_a_restart(registry: RegistryRuntime) -> None:
    store = registry.store
    assert await store.providers.count_documents({}) == len(CATALOG)
    await store.providers.update_one({"slug": "kraken-v1"}, {"$set": {"is_active": False}})
    assert await store.seed_providers(CATALOG) == 0
    assert await store.providers.count_documents({}) == len(CATALOG)
    kraken = await store.get_provider("kraken-v1")
    assert kraken is not None
    assert kraken.is_active is False


async def test_provider_is_found_by_id_or_slug(registry: RegistryRuntime, nc: Client) -> None:
    by_slug = await ask(nc, Registry.PROVIDERS_GET, {"ref": "binance-v1"})
    by_id = await ask(nc, Registry.PROVIDERS_GET, {"ref": by_slug.data["id"]})
    missing = await ask(nc, Registry.PROVIDERS_GET, {"ref": "nope-v9"})
    assert by_slug.data == by_id.data
    assert by_slug.data["required_credentials"] == ["api_key", "api_secret"]
    assert missing.error is not None
    assert missing.error.code == "provider_not_found"


async def test_providers_page_through_with_cursor_and_filters(registry: RegistryRuntime, nc: Client) -> None:
    slugs: list[str] = []
    cursor = None
    while True:
        page = await ask(nc, Registry.PROVIDERS_LIST, {"limit": 2, **({"cursor": cursor} if cursor else {})})
        slugs += [p["slug"] for p in page.data["items"]]
        cursor = page.data["next_cursor"]
        if cursor is None:
            break
    assert slugs == sorted(spec.slug for spec in CATALOG)
    demo = await ask(nc, Registry.PROVIDERS_LIST, {"is_demo": True})
    assert [p["slug"] for p in demo.data["items"]] == ["demo-v1"]


async def test_raw_document_holds_only_fernet_tokens(registry: RegistryRuntime, nc: Client) -> None:
    creds = binance_credentials()
    reply = await ask(
        nc, Registry.WALLETS_CREATE, create_cmd(user_id(), binance_wallet_body(credentials=creds))
    )
    raw = await registry.store.user_wallets.find_one({"_id": ObjectId(reply.data["id"])})
    assert raw is not None
    dumped = bson.encode(raw, codec_options=CODEC_OPTIONS)
    for value in creds.values():
        assert value.encode() not in dumped
    assert set(raw["credentials"]) == {"api_key", "api_secret"}
    assert all(token.startswith("gAAAA") for token in raw["credentials"].values())
    assert reply.data["credentials_set"] == ["api_key", "api_secret"]


async def test_wallet_created_under_key_a_reads_after_keys_b_a(
    nats_url: str, mongo_url: str, db_name: str, nc: Client
) -> None:
    from tests.support.factories import fernet_key

    key_a, key_b = fernet_key(), fernet_key()
    creds = binance_credentials()
    first = await start_registry(nats_url, mongo_url, db_name, key_a)
    try:
        user = user_id()
        created = await ask(
            nc, Registry.WALLETS_CREATE, create_cmd(user, binance_wallet_body(credentials=creds))
        )
    finally:
        await first.stop()
    second = await start_registry(nats_url, mongo_url, db_name, f"{key_b},{key_a}")
    try:
        fetched = await ask(nc, Registry.WALLETS_GET, {"user_id": user, "wallet_id": created.data["id"]})
        record = await second.store.get_wallet(user, created.data["id"])
        assert record is not None
        plain = {k: v.get_secret_value() for k, v in second.cipher.decrypt(record.credentials).items()}
    finally:
        await second.stop()
    assert fetched.ok
    assert fetched.data["credentials_set"] == ["api_key", "api_secret"]
    assert plain == creds


async def test_same_command_id_racing_on_two_instances_returns_the_first_wallet(
    registry: RegistryRuntime, nats_url: str, mongo_url: str, db_name: str, encryption_key: str, nc: Client
) -> None:
    second = await start_registry(nats_url, mongo_url, db_name, encryption_key)
    try:
        for attempt in range(5):
            user = user_id()
            cmd = create_cmd(user, demo_wallet_body("A"), f"retry-{attempt}")
            replies = await asyncio.gather(*(ask(nc, Registry.WALLETS_CREATE, cmd) for _ in range(6)))
            assert all(r.ok for r in replies), [r.error for r in replies]
            assert len({r.data["id"] for r in replies}) == 1
            assert await registry.store.user_wallets.count_documents({"user_id": user}) == 1
    finally:
        await second.stop()


async def test_same_command_id_with_a_changed_body_conflicts(registry: RegistryRuntime, nc: Client) -> None:
    user = user_id()
    first = await ask(nc, Registry.WALLETS_CREATE, create_cmd(user, demo_wallet_body("A"), "cmd-x"))
    other = await ask(nc, Registry.WALLETS_CREATE, create_cmd(user, demo_wallet_body("B"), "cmd-x"))
    assert first.ok
    assert other.error is not None
    assert other.error.code == "idempotency_conflict"

    # A retry whose client serialised the same body with another key order is the same command.
    one = await ask(
        nc,
        Registry.WALLETS_CREATE,
        create_cmd(user, demo_wallet_body("C", initial_balances={"USDT": "5", "BTC": "1"}), "cmd-y"),
    )
    two = await ask(
        nc,
        Registry.WALLETS_CREATE,
        create_cmd(user, demo_wallet_body("C", initial_balances={"BTC": "1", "USDT": "5"}), "cmd-y"),
    )
    assert one.ok
    assert two.ok
    assert one.data == two.data


async def test_concurrent_updates_each_apply_once_with_gapless_event_sequences(
    registry: RegistryRuntime, nc: Client
) -> None:
    user = user_id()
    created = await ask(nc, Registry.WALLETS_CREATE, create_cmd(user, demo_wallet_body("base")))
    wallet_id = created.data["id"]
    replies = await asyncio.gather(
        *(
            ask(
                nc,
                Registry.WALLETS_UPDATE,
                {
                    "command_id": f"u{i}",
                    "user_id": user,
                    "wallet_id": wallet_id,
                    "body": {"custom_name": f"n{i}"},
                },
            )
            for i in range(12)
        )
    )
    applied = [r for r in replies if r.ok]
    assert applied
    assert all(r.ok or (r.error is not None and r.error.code == "concurrent_modification") for r in replies)
    events = await eventually(at_least(nc, wallet_id, 1 + len(applied)), what="one event per applied change")
    sequences = [json.loads(data)["sequence"] for _, data, _ in events]
    assert sequences == list(range(1, 2 + len(applied)))
    final = await ask(nc, Registry.WALLETS_GET, {"user_id": user, "wallet_id": wallet_id})
    assert final.data["custom_name"] == json.loads(events[-1][1])["data"]["custom_name"]


async def test_malformed_commands_get_an_error_reply_not_a_timeout(
    registry: RegistryRuntime, nc: Client
) -> None:
    garbage = await ask(nc, Registry.WALLETS_CREATE, b"\xff not json")
    wrong = await ask(
        nc, Registry.WALLETS_CREATE, {"command_id": "c", "user_id": "u", "body": {"custom_name": 1}}
    )
    for reply in (garbage, wrong):
        assert reply.error is not None
        assert reply.error.code == "validation_error"


async def test_user_isolation_on_every_query(registry: RegistryRuntime, nc: Client) -> None:
    owner, other = user_id("owner"), user_id("other")
    created = await ask(nc, Registry.WALLETS_CREATE, create_cmd(owner, demo_wallet_body()))
    wallet_id = created.data["id"]
    probes = [
        (Registry.WALLETS_GET, {"user_id": other, "wallet_id": wallet_id}),
        (
            Registry.WALLETS_UPDATE,
            {"command_id": "x", "user_id": other, "wallet_id": wallet_id, "body": {"is_active": False}},
        ),
        (Registry.WALLETS_DELETE, {"command_id": "y", "user_id": other, "wallet_id": wallet_id}),
    ]
    for subject, command in probes:
        reply = await ask(nc, subject, command)
        assert reply.error is not None
        assert reply.error.code == "wallet_not_found", subject
    listing = await ask(nc, Registry.WALLETS_LIST, {"user_id": other})
    assert listing.data["items"] == []
    mine = await ask(nc, Registry.WALLETS_GET, {"user_id": owner, "wallet_id": wallet_id})
    assert mine.data["is_active"] is True


async def test_service_refuses_to_start_with_an_invalid_key() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wallet_registry",
        env={"ENCRYPTION_KEYS": "not-a-fernet-key", "NATS_URL": "nats://127.0.0.1:1", "PATH": ""},
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 2
    assert b"key #1 is not a valid Fernet key" in stderr
    assert b"not-a-fernet-key" not in stderr
    assert b"Traceback" not in stderr
