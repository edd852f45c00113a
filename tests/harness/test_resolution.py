"""Infrastructure resolution: env URL first, testcontainers only when an engine answers, else embedded."""

from __future__ import annotations

from pathlib import Path

import nats
import pytest
from pymongo import AsyncMongoClient

from devstack.nats import EmbeddedNats
from devstack.resolve import docker_engine_answers, mongo_endpoint, nats_endpoint


def test_environment_urls_win(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NATS_URL", "nats://10.9.9.9:4222")
    monkeypatch.setenv("MONGODB_URL", "mongodb://10.9.9.9:27017")
    with nats_endpoint(tmp_path) as n, mongo_endpoint(tmp_path) as m:
        assert (n.url, n.source) == ("nats://10.9.9.9:4222", "env")
        assert (m.url, m.source) == ("mongodb://10.9.9.9:27017", "env")
    assert not (tmp_path / "nats").exists()  # nothing was started


async def test_embedded_nats_has_jetstream_and_keeps_its_store_dir(tmp_path: Path) -> None:
    server = EmbeddedNats(tmp_path / "store")
    try:
        client = await nats.connect(server.url)
        info = await client.jetstream().account_info()
        max_payload = client.max_payload
        await client.close()
        assert info.limits is not None
        assert max_payload == 512 * 1024  # set explicitly, not the server's 1 MiB default
        assert (tmp_path / "store" / "jetstream").is_dir()
    finally:
        server.stop()
    assert not server.process.alive()


async def test_embedded_endpoints_answer_when_no_env_and_no_docker(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("NATS_URL", raising=False)
    monkeypatch.delenv("MONGODB_URL", raising=False)
    with nats_endpoint(tmp_path, use_docker=False) as n, mongo_endpoint(tmp_path, use_docker=False) as m:
        assert n.source == m.source == "embedded"
        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(m.url)
        assert (await client.admin.command("ping"))["ok"] == 1
        await client.close()
        nc = await nats.connect(n.url)
        assert nc.is_connected
        await nc.close()
    assert (tmp_path / "mongo" / "moniqo.sqlite").exists()  # persistent by default (make run keeps data)


@pytest.mark.docker
def test_testcontainers_path_when_a_docker_engine_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not docker_engine_answers():
        pytest.skip("no Docker engine answers on this machine")
    monkeypatch.delenv("NATS_URL", raising=False)
    monkeypatch.delenv("MONGODB_URL", raising=False)
    with nats_endpoint(tmp_path) as n, mongo_endpoint(tmp_path) as m:
        assert n.source == m.source == "testcontainers"


def test_docker_probe_says_no_quickly_when_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONIQO_NO_DOCKER", "1")
    assert docker_engine_answers() is False
