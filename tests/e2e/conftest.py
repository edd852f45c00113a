from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from servicekit.mongo import Document, database
from tests.support.audit import assert_money_conserved
from tests.support.factories import fernet_key
from tests.support.stack import Stack, start_stack


@pytest.fixture(scope="module")
def stack(nats_url: str, mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(
        nats_url=nats_url,
        mongo_url=mongo_url,
        db_prefix=f"e2e_{uuid.uuid4().hex[:10]}",
        log_dir=Path(tmp_path_factory.mktemp("stack-logs")),
        keys=fernet_key(),
    )
    yield running
    running.stop()
    assert_money_conserved(running, mongo_url)  # whatever the module's tests did, the money reconciles


@pytest.fixture
async def http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=15) as client:
        yield client


@pytest.fixture
def stack_db(stack: Stack, mongo_client: AsyncMongoClient[Document]) -> AsyncDatabase[Document]:
    return database(mongo_client, stack.registry_db)
