"""The registry, with the test-double providers in its catalog, for the balance-sync integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

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
