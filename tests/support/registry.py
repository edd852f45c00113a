"""Run wallet-registry in-process on the session's real NATS and Mongo, and talk to it over NATS."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from nats.aio.client import Client
from pydantic import BaseModel, SecretStr

from contracts.errors import ErrorInfo
from contracts.replies import Reply
from wallet_registry.app import RegistryRuntime
from wallet_registry.settings import RegistrySettings


def registry_settings(
    nats_url: str, mongo_url: str, db_name: str, keys: str, **extra: Any
) -> RegistrySettings:
    return RegistrySettings(
        nats_url=nats_url, mongodb_url=mongo_url, mongodb_db=db_name, encryption_keys=SecretStr(keys), **extra
    )


async def start_registry(nats_url: str, mongo_url: str, db_name: str, keys: str) -> RegistryRuntime:
    runtime = RegistryRuntime(registry_settings(nats_url, mongo_url, db_name, keys))
    await runtime.start()
    return runtime


@dataclass(frozen=True)
class Answer:
    ok: bool
    data: Any
    error: ErrorInfo | None


async def ask(nc: Client, subject: str, command: BaseModel | dict[str, Any] | bytes) -> Answer:
    """Send a command as the gateway does; returns the decoded reply envelope."""
    if isinstance(command, BaseModel):
        payload = command.model_dump_json().encode()
    elif isinstance(command, dict):
        payload = json.dumps(command).encode()
    else:
        payload = command
    msg = await nc.request(subject, payload, timeout=10)
    reply = Reply[Any].model_validate_json(msg.data)
    return Answer(reply.ok, reply.data, reply.error)


async def ask_batch_as_alone(
    nc: Client, batch: tuple[str, str], alone: str, field: str, refs: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    """Send `refs` (wallet id, user id) in one batch request, `batch` = (subject, list field), and check each
    item: `field` holds what `alone` answers for that wallet by itself, or `error` holds the same refusal.
    Returns the items, in the order of `refs`."""
    subject, list_field = batch
    reply = await ask(nc, subject, {list_field: [{"wallet_id": w, "user_id": u} for w, u in refs]})
    assert reply.ok, reply.error
    items: list[dict[str, Any]] = reply.data["items"]
    assert [i["wallet_id"] for i in items] == [w for w, _ in refs]  # one answer per wallet, in order
    for (wallet_id, user), item in zip(refs, items, strict=True):
        single = await ask(nc, alone, {"wallet_id": wallet_id, "user_id": user})
        if single.ok:
            assert item["error"] is None
            assert item[field] == single.data
        else:
            assert item[field] is None
            assert single.error is not None
            assert item["error"]["code"] == single.error.code == "wallet_not_found"
    return items
