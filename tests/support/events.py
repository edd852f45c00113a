"""Read what MONIQO_EVENTS holds for one wallet."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nats.aio.client import Client
from nats.js.api import ConsumerConfig, DeliverPolicy

from contracts.subjects import EVENTS_STREAM

Events = list[tuple[str, bytes, str]]


async def events_for(nc: Client, wallet_id: str) -> list[tuple[str, bytes, str]]:
    """Every message in MONIQO_EVENTS for one wallet: (subject, data, Nats-Msg-Id)."""
    js = nc.jetstream()
    sub = await js.pull_subscribe(
        f"evt.*.*.{wallet_id}", stream=EVENTS_STREAM, config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
    )
    info = await sub.consumer_info()
    out = []
    pending = info.num_pending
    while pending:
        for msg in await sub.fetch(pending, timeout=5):
            out.append((msg.subject, msg.data, (msg.headers or {}).get("Nats-Msg-Id", "")))
            await msg.ack()
        pending = (await sub.consumer_info()).num_pending
    await sub.unsubscribe()
    return out


def at_least(nc: Client, wallet_id: str, n: int) -> Callable[[], Awaitable[Events | None]]:
    async def probe() -> Events | None:
        found = await events_for(nc, wallet_id)
        return found if len(found) >= n else None

    return probe
