"""Exchange connectors that are test doubles: their base class, their provider rows in the registry's
catalog, and the balances they answer. Used by the balance-sync tests that need a wallet which fails."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bson import ObjectId
from nats.aio.client import Client
from pydantic import SecretStr

from contracts.orders import AssetBalance, Balances
from contracts.subjects import Sync
from contracts.sync import SyncJob, SyncTrigger
from contracts.wallets import WalletDefinition
from wallet_registry.app import RegistryRuntime
from wallets.base import BaseWallet


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


async def add_double_providers(runtime: RegistryRuntime, *slugs: str) -> None:
    """Catalog rows for the doubles registered under `slugs` (one api_key credential, not demo)."""
    now = datetime.now(UTC)
    for slug in slugs:
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
