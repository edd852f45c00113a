"""``svc.registry.wallets.connectors``: many wallets' connectors in one request, each answered as
``svc.registry.wallets.connector`` answers it alone (real NATS, real Mongo wire server)."""

from __future__ import annotations

from typing import Any

from nats.aio.client import Client

from contracts.subjects import Registry
from contracts.wallets import CreateUserWallet, UserWalletCreate
from tests.support.factories import binance_credentials, binance_wallet_body, demo_wallet_body, user_id
from tests.support.registry import ask, ask_batch_as_alone
from wallet_registry.app import RegistryRuntime


async def create(nc: Client, user: str, body: dict[str, Any], command_id: str) -> str:
    cmd = CreateUserWallet(command_id=command_id, user_id=user, body=UserWalletCreate.model_validate(body))
    reply = await ask(nc, Registry.WALLETS_CREATE, cmd)
    assert reply.ok, reply.error
    wallet_id: str = reply.data["id"]
    return wallet_id


async def test_each_wallet_of_a_batch_gets_its_connector_or_the_refusal_it_would_get_alone(
    registry: RegistryRuntime, nc: Client
) -> None:
    alice, bob = user_id("alice"), user_id("bob")
    keys = binance_credentials()
    binance = await create(nc, alice, binance_wallet_body(credentials=keys), "c1")
    paper = await create(nc, alice, demo_wallet_body(), "c2")
    gone = await create(nc, alice, demo_wallet_body("Old paper"), "c3")
    bobs = await create(nc, bob, demo_wallet_body(), "c4")
    deleted = await ask(
        nc, Registry.WALLETS_DELETE, {"command_id": "d1", "user_id": alice, "wallet_id": gone}
    )
    assert deleted.ok, deleted.error

    refs = [(binance, alice), (paper, alice), (gone, alice), (bobs, alice), (bobs, bob)]
    items = await ask_batch_as_alone(
        nc, (Registry.WALLETS_CONNECTORS, "wallets"), Registry.WALLETS_CONNECTOR, "connector", refs
    )
    assert items[0]["connector"]["credentials"] == keys  # decrypted for balance-sync (internal bus only)
    assert [i["error"] is None for i in items] == [True, True, False, False, True]


async def test_a_batch_names_at_least_one_and_at_most_200_wallets(
    registry: RegistryRuntime, nc: Client
) -> None:
    empty = await ask(nc, Registry.WALLETS_CONNECTORS, {"wallets": []})
    too_many = await ask(
        nc,
        Registry.WALLETS_CONNECTORS,
        {"wallets": [{"wallet_id": "6650c0ffee00000000000001", "user_id": "u"}] * 201},
    )
    assert empty.error is not None
    assert too_many.error is not None
    assert empty.error.code == too_many.error.code == "validation_error"
