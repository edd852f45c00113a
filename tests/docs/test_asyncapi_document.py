"""The committed AsyncAPI document is the one the code generates: every command subject and event."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from contracts.events import EVENT_MODELS
from contracts.subjects import EventType, Exchange, Registry, Sync, tick_subject
from moniqo_cli.asyncapi_doc import COMMITTED, REGENERATE, build_document, committed_copies, render
from moniqo_cli.main import app


@pytest.fixture(scope="module")
async def document() -> dict[str, Any]:
    return await build_document()


def addresses(document: dict[str, Any]) -> set[str]:
    return {channel["address"] for channel in document["channels"].values()}


def test_committed_copies_match_the_generated_document(document: dict[str, Any]) -> None:
    expected = render(document)
    for path in committed_copies():
        committed = path.read_text() if path.exists() else "<missing>"
        assert committed == expected, (
            f"{path} is out of date with the services' subscribers and the contracts: "
            f"run `{REGENERATE}` (or `.venv/bin/{REGENERATE}`) and commit the result"
        )


def test_every_command_subject_is_a_documented_channel(document: dict[str, Any]) -> None:
    commands = {*Registry.all(), *Exchange.all(), Sync.RUN, Sync.LOGS, Sync.STATS}
    assert commands <= addresses(document)


def test_commands_are_received_in_the_queue_group_of_their_service(document: dict[str, Any]) -> None:
    queues = {
        channel["address"]: channel["bindings"]["nats"].get("queue")
        for channel in document["channels"].values()
        if channel["address"].startswith("svc.")
    }
    assert {queues[s] for s in Registry.all()} == {"wallet-registry"}
    assert {queues[s] for s in Exchange.all()} == {"demo-exchange"}
    assert {queues[s] for s in (Sync.RUN, Sync.LOGS, Sync.STATS)} == {"balance-sync"}


def test_every_event_type_is_sent_on_its_subject_with_its_typed_envelope(document: dict[str, Any]) -> None:
    sent = {
        op["channel"]["$ref"].removeprefix("#/channels/"): op
        for op in document["operations"].values()
        if op["action"] == "send"
    }
    for event_type in EventType:
        channel = document["channels"][f"evt.{event_type.value}"]
        assert channel["address"] == f"evt.{event_type.value}.{{wallet_id}}"
        assert "wallet_id" in channel["parameters"]
        assert f"evt.{event_type.value}" in sent
        message_ref = channel["messages"]["Message"]["$ref"].removeprefix("#/components/messages/")
        payload = document["components"]["messages"][message_ref]["payload"]
        assert payload == {"$ref": f"#/components/schemas/{EVENT_MODELS[event_type].__name__}"}


def test_every_operation_names_the_service_that_runs_it(document: dict[str, Any]) -> None:
    services = {op["tags"][0]["name"] for op in document["operations"].values()}
    assert services == {"wallet-registry", "demo-exchange", "balance-sync", "market-feed"}


def test_ticks_are_documented_with_the_tick_model_on_their_subject(document: dict[str, Any]) -> None:
    channel = document["channels"]["market.ticks"]
    assert channel["address"] == "market.ticks.{pair}"
    assert tick_subject("BTC/USDT").startswith(channel["address"].removesuffix("{pair}"))
    assert "pair" in channel["parameters"]
    message_ref = channel["messages"]["Message"]["$ref"].removeprefix("#/components/messages/")
    assert document["components"]["messages"][message_ref]["payload"] == {"$ref": "#/components/schemas/Tick"}


def test_moniqo_docs_asyncapi_prints_the_committed_document() -> None:
    result = CliRunner().invoke(app, ["docs", "asyncapi"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json.loads(COMMITTED.read_text())
