"""Resolve NATS and MongoDB: environment URL → testcontainers (Docker engine answers) → embedded."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devstack.mongo import EmbeddedMongo
from devstack.nats import EmbeddedNats


@dataclass(frozen=True)
class Endpoint:
    url: str
    source: str  # "env" | "testcontainers" | "embedded"


def docker_engine_answers(timeout: float = 2.0) -> bool:
    """True only when the ``docker`` package is installed and an engine answers a ping."""
    if os.environ.get("MONIQO_NO_DOCKER"):
        return False
    try:
        import docker

        client = docker.from_env(timeout=int(timeout))
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def _nats_container(stack: ExitStack) -> Endpoint:
    from testcontainers.community.nats import NatsContainer

    container: Any = stack.enter_context(NatsContainer("nats:2.11").with_command("-js"))
    return Endpoint(container.nats_uri(), "testcontainers")


def _mongo_container(stack: ExitStack) -> Endpoint:
    from testcontainers.community.mongodb import MongoDbContainer

    container: Any = stack.enter_context(MongoDbContainer("mongo:7"))
    return Endpoint(container.get_connection_url(), "testcontainers")


@contextmanager
def nats_endpoint(workdir: Path, *, use_docker: bool | None = None) -> Iterator[Endpoint]:
    if url := os.environ.get("NATS_URL"):
        yield Endpoint(url, "env")
        return
    with ExitStack() as stack:
        if use_docker if use_docker is not None else docker_engine_answers():
            yield _nats_container(stack)
            return
        server = EmbeddedNats(workdir / "nats", log_path=workdir / "nats-server.log")
        stack.callback(server.stop)
        yield Endpoint(server.url, "embedded")


@contextmanager
def mongo_endpoint(
    workdir: Path, *, use_docker: bool | None = None, persistent: bool = True
) -> Iterator[Endpoint]:
    if url := os.environ.get("MONGODB_URL"):
        yield Endpoint(url, "env")
        return
    with ExitStack() as stack:
        if use_docker if use_docker is not None else docker_engine_answers():
            yield _mongo_container(stack)
            return
        server = EmbeddedMongo(
            sqlite_path=workdir / "mongo" / "moniqo.sqlite" if persistent else None,
            ready_file=workdir / "mongo.port",
            log_path=workdir / "mongo-server.log",
        )
        stack.callback(server.stop)
        yield Endpoint(server.url, "embedded")
