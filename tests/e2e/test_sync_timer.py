"""Three balance-sync processes with a 2-second interval: each wallet is synced exactly once per window,
and in every window that started after it existed."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from pymongo import AsyncMongoClient

from balance_sync.domain.rules import window_of
from servicekit.mongo import Document, database
from tests.support.factories import fernet_key, user_id
from tests.support.stack import Stack, start_stack
from tests.support.trading import Trader
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow
INTERVAL = 2


@pytest.fixture(scope="module")
def stack(nats_url: str, mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(
        nats_url=nats_url,
        mongo_url=mongo_url,
        db_prefix=f"timer_{uuid.uuid4().hex[:10]}",
        log_dir=Path(tmp_path_factory.mktemp("sync-timer")),
        keys=fernet_key(),
        extra_env={"SYNC_INTERVAL": str(INTERVAL)},
    )
    running.add_process("balance-sync-2", "balance_sync", {})
    running.add_process("balance-sync-3", "balance_sync", {})
    yield running
    running.stop()


async def test_each_wallet_is_synced_exactly_once_per_window_by_three_instances(
    http: httpx.AsyncClient, stack: Stack, mongo_client: AsyncMongoClient[Document]
) -> None:
    traders = [await Trader.open(http, stack, user_id(f"timer{i}")) for i in range(3)]
    # The first window that starts after every wallet exists. An earlier window's sweep may list a wallet
    # or not: it lists the wallets that exist when it runs, and a retried sweep can run after a newer one.
    first = window_of(datetime.now(UTC), INTERVAL) + 1
    logs = database(mongo_client, stack.sync_db)["wallet_sync_log"]

    async def windows_per_wallet() -> dict[str, list[int]] | None:
        found: dict[str, list[int]] = {}
        for t in traders:
            keys = [
                d["key"] async for d in logs.find({"user_wallet_id": t.wallet["id"], "trigger": "scheduled"})
            ]
            found[t.wallet["id"]] = [int(k.rsplit(":", 1)[1]) for k in keys]
        return found if all(len({n for n in w if n >= first}) >= 4 for w in found.values()) else None

    seen = await eventually(
        windows_per_wallet, timeout=40, interval=0.5, what="four windows of scheduled syncs"
    )
    assert all(p.alive() for name, p in stack.processes.items() if name.startswith("balance-sync"))
    for wallet_id, windows in seen.items():
        counts = Counter(windows)
        assert set(counts.values()) == {1}, f"{wallet_id} synced twice in a window: {counts}"
        ordered = sorted(n for n in counts if n >= first)
        assert ordered == list(range(first, ordered[-1] + 1)), f"{wallet_id} missed a window: {ordered}"
    statuses = {d["status"] async for d in logs.find({"trigger": "scheduled"})}
    assert statuses == {"success"}
