"""``moniqo keys rotate``: every credential re-encrypted under the newest key; the old key can then go."""

from __future__ import annotations

import asyncio

from nats.aio.client import Client
from typer.testing import CliRunner

from contracts.subjects import Registry
from contracts.sync import GetConnector
from contracts.wallets import CreateUserWallet, UserWalletCreate
from moniqo_cli.main import app
from tests.support.factories import (
    binance_credentials,
    binance_wallet_body,
    demo_wallet_body,
    fernet_key,
    user_id,
)
from tests.support.registry import ask, start_registry


async def test_rotation_lets_the_old_key_be_removed_with_every_wallet_still_usable(
    nats_url: str, mongo_url: str, db_name: str, nc: Client
) -> None:
    key_a, key_b = fernet_key(), fernet_key()
    created: list[tuple[str, str, dict[str, str]]] = []
    old = await start_registry(nats_url, mongo_url, db_name, key_a)
    try:
        for i in range(3):
            user, creds = user_id(), binance_credentials()
            body = UserWalletCreate.model_validate(binance_wallet_body(name=f"b{i}", credentials=creds))
            reply = await ask(
                nc, Registry.WALLETS_CREATE, CreateUserWallet(command_id=f"c{i}", user_id=user, body=body)
            )
            created.append((reply.data["id"], user, creds))
        demo = UserWalletCreate.model_validate(demo_wallet_body())
        assert (
            await ask(
                nc, Registry.WALLETS_CREATE, CreateUserWallet(command_id="d", user_id=user_id(), body=demo)
            )
        ).ok
    finally:
        await old.stop()

    env = {"MONGODB_URL": mongo_url, "ENCRYPTION_KEYS": f"{key_b},{key_a}"}
    result = await asyncio.to_thread(
        CliRunner().invoke, app, ["keys", "rotate", "--database", db_name], env=env
    )
    assert result.exit_code == 0, result.output
    assert "rotated 3, already current 0, without credentials 1" in result.stdout
    again = await asyncio.to_thread(
        CliRunner().invoke, app, ["keys", "rotate", "--database", db_name], env=env
    )
    assert "rotated 0, already current 3" in again.stdout  # idempotent

    only_b = await start_registry(nats_url, mongo_url, db_name, key_b)
    try:
        for wallet_id, user, creds in created:
            reply = await ask(nc, Registry.WALLETS_CONNECTOR, GetConnector(wallet_id=wallet_id, user_id=user))
            assert reply.ok, reply.error
            assert reply.data["credentials"] == creds
    finally:
        await only_b.stop()


async def test_rotation_reports_tokens_no_configured_key_can_read(
    mongo_url: str, nats_url: str, db_name: str, nc: Client
) -> None:
    lost_key = fernet_key()
    registry = await start_registry(nats_url, mongo_url, db_name, lost_key)
    try:
        body = UserWalletCreate.model_validate(binance_wallet_body())
        wallet = await ask(
            nc, Registry.WALLETS_CREATE, CreateUserWallet(command_id="c", user_id=user_id(), body=body)
        )
    finally:
        await registry.stop()
    env = {"MONGODB_URL": mongo_url, "ENCRYPTION_KEYS": fernet_key()}
    result = await asyncio.to_thread(
        CliRunner().invoke, app, ["keys", "rotate", "--database", db_name], env=env
    )
    assert result.exit_code == 1
    assert wallet.data["id"] in result.output
    assert "unreadable 1" in result.stdout


def test_rotation_refuses_a_bad_key_list() -> None:
    result = CliRunner().invoke(
        app, ["keys", "rotate"], env={"MONGODB_URL": "mongodb://x", "ENCRYPTION_KEYS": "nope"}
    )
    assert result.exit_code == 2
    assert "not a valid Fernet key" in result.output
    assert "nope" not in result.output.replace("moniqo", "")
