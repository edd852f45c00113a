"""Exchange connectors that are test doubles (one that fails once, one that always fails, one that waits
for the test), their provider rows in the registry's catalog, and opening wallets on them. Used by the
balance-sync tests that need a wallet which fails."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

from bson import ObjectId
from nats.aio.client import Client
from pydantic import SecretStr

from contracts.orders import AssetBalance, Balances
from contracts.subjects import Registry, Sync
from contracts.sync import SyncJob, SyncTrigger
from contracts.wallets import CreateUserWallet, UserWalletCreate, WalletDefinition
from demo_exchange.app import ExchangeRuntime
from tests.support.registry import ask
from tests.support.waiting import eventually
from wallet_registry.app import RegistryRuntime
from wallets.base import BaseWallet
from wallets.errors import NetworkError
from wallets.factory import register_wallet

FLAKY, BROKEN, SLOW = "flaky-test-v1", "broken-test-v1", "slow-test-v1"


class DoubleWallet(BaseWallet):
    """A connector the factory builds like a real one; subclasses answer `get_balance` as the test needs."""

    def __init__(
        self, provider: WalletDefinition, credentials: Mapping[str, SecretStr] | None = None, **kw: Any
    ):
        super().__init__(provider, credentials, wallet_id=kw.get("wallet_id"))


def usdt(wallet_id: str, value: Decimal) -> Balances:
    """Balances holding `value` USDT, all of it free."""
    entry = AssetBalance(free=value, locked=Decimal(0), total=value)
    return Balances(wallet_id=wallet_id, balances={"USDT": entry}, updated_at=datetime.now(UTC))


@register_wallet(slug=FLAKY)
class FlakyWallet(DoubleWallet):
    """Fails once per wallet with a network error, then answers 7 USDT."""

    calls: ClassVar[dict[str, int]] = {}

    async def get_balance(self) -> Balances:
        key = self.wallet_id or ""
        self.calls[key] = self.calls.get(key, 0) + 1
        if self.calls[key] == 1:
            raise NetworkError("exchange unreachable (first attempt)")
        return usdt(key, Decimal(7))


@register_wallet(slug=BROKEN)
class BrokenWallet(DoubleWallet):
    """Never answers."""

    async def get_balance(self) -> Balances:
        raise NetworkError("exchange unreachable (always)")


@register_wallet(slug=SLOW)
class SlowWallet(DoubleWallet):
    """Each reading is 10 more than the last; the first one waits until the test releases it (a test
    that uses it sets a new `release` event and `readings` = 0 first)."""

    release: ClassVar[asyncio.Event]
    readings: ClassVar[int] = 0

    async def get_balance(self) -> Balances:
        cls = type(self)
        cls.readings += 1
        value = Decimal(10 * cls.readings)
        if cls.readings == 1:
            await cls.release.wait()
        return usdt(self.wallet_id or "", value)


async def add_double_providers(runtime: RegistryRuntime) -> None:
    """Catalog rows for the doubles (one api_key credential each, not demo)."""
    now = datetime.now(UTC)
    for slug in (FLAKY, BROKEN, SLOW):
        await runtime.store.providers.insert_one(
            {
                "_id": ObjectId(),
                "slug": slug,
                "name": slug,
                "integration_type": "cex",
                "is_demo": False,
                "is_active": True,
                "required_credentials": ["api_key"],
                "supported_symbols": [],
                "description": "test double",
                "created_at": now,
                "updated_at": now,
                "deleted_at": None,
            }
        )


async def publish_job(nc: Client, ns: str, wallet_id: str, user: str, key: str) -> None:
    """A scheduled sync job on the work queue of namespace `ns`, deduplicated by its key."""
    job = SyncJob(wallet_id=wallet_id, user_id=user, trigger=SyncTrigger.SCHEDULED, key=key)
    await nc.jetstream().publish(
        Sync.job(ns, wallet_id), job.model_dump_json().encode(), headers={"Nats-Msg-Id": key}
    )


async def open_wallet(nc: Client, slug: str, exchange: ExchangeRuntime | None = None) -> tuple[str, str]:
    """A new user's wallet on provider `slug` (a double gets an api key); with `exchange`, waits until the
    demo account is open there. Returns (wallet id, user id)."""
    user = f"user-{uuid.uuid4().hex[:8]}"
    fields: dict[str, Any] = {"wallet_provider_id": slug, "custom_name": f"{slug} wallet"}
    if slug != "demo-v1":
        fields["credentials"] = {"api_key": "k"}
    body = UserWalletCreate.model_validate(fields)
    reply = await ask(nc, Registry.WALLETS_CREATE, CreateUserWallet(command_id="c", user_id=user, body=body))
    assert reply.ok, reply.error
    wallet_id: str = reply.data["id"]
    if exchange is not None:

        async def opened() -> bool:
            return await exchange.store.load(wallet_id) is not None

        await eventually(opened, what="the demo account opened")
    return wallet_id, user
