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
