"""The balance-sync integration tests' registry (the test doubles in its catalog) and settings."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from balance_sync.settings import SyncSettings
from tests.support.doubles import add_double_providers
from tests.support.registry import start_registry
from wallet_registry.app import RegistryRuntime


@pytest.fixture
async def registry(
    nats_url: str, mongo_url: str, db_name: str, encryption_key: str
) -> AsyncIterator[RegistryRuntime]:
    runtime = await start_registry(nats_url, mongo_url, db_name, encryption_key)
    await add_double_providers(runtime)
    yield runtime
    await runtime.stop()


@pytest.fixture
def sync_settings(nats_url: str, mongo_url: str, db_name: str) -> SyncSettings:
    """A balance-sync of this test's own (database, stream namespace), quick to retry and dead-letter."""
    return SyncSettings(
        nats_url=nats_url,
        mongodb_url=mongo_url,
        mongodb_db=f"{db_name}_sync",
        mongodb_db_prefix=f"b{uuid.uuid4().hex[:12]}",
        max_deliver=3,
        retry_base=0.05,
    )
