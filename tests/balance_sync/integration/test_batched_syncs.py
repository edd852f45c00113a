"""Sync jobs served in batches: every job of a batch is synced exactly once, a wallet that fails (for good
or for a moment) fails alone, three instances on one work queue never sync a job twice, and a commit
that loses to an overlapping sync inside a bulk write reads again without failing its batch. Real NATS,
real Mongo wire server, in-process wallet-registry, demo-exchange and balance-sync; the failing
connectors are test doubles registered in the wallet factory."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from decimal import Decimal

import pytest
from nats.aio.client import Client

from balance_sync.app import SyncRuntime
from balance_sync.settings import SyncSettings
from balance_sync.streams import ensure_streams
from contracts.sync import SyncTrigger
from demo_exchange.app import ExchangeRuntime
from demo_exchange.settings import ExchangeSettings
from tests.support.doubles import BROKEN, FLAKY, SLOW, FlakyWallet, SlowWallet, open_wallet, publish_job
from tests.support.waiting import eventually
from wallet_registry.app import RegistryRuntime


@pytest.fixture
async def exchange(nats_url: str, mongo_url: str, db_name: str) -> AsyncIterator[ExchangeRuntime]:
    settings = ExchangeSettings(nats_url=nats_url, mongodb_url=mongo_url, mongodb_db=f"{db_name}_ex")
    runtime = ExchangeRuntime(settings)
    await runtime.start()
    yield runtime
    await runtime.stop()


async def publish_jobs(nc: Client, ns: str, wallets: list[tuple[str, str]], window: int) -> list[str]:
    keys = [f"{wallet_id}:{window}" for wallet_id, _ in wallets]
    for (wallet_id, user), key in zip(wallets, keys, strict=True):
        await publish_job(nc, ns, wallet_id, user, key)
    return keys


async def logs_by_key(runtime: SyncRuntime, keys: list[str]) -> Counter[str]:
    docs = await runtime.store.logs.find({"key": {"$in": keys}}, {"key": 1}).to_list()
    return Counter(d["key"] for d in docs)


async def test_a_batch_of_jobs_syncs_every_wallet_once_and_a_failing_wallet_fails_alone(
    registry: RegistryRuntime, exchange: ExchangeRuntime, sync_settings: SyncSettings, nc: Client
) -> None:
    demo = [await open_wallet(nc, "demo-v1", exchange) for _ in range(20)]
    flaky = [await open_wallet(nc, FLAKY) for _ in range(2)]
    broken = [await open_wallet(nc, BROKEN) for _ in range(2)]
    ns = sync_settings.mongodb_db_prefix
    await ensure_streams(nc, ns, sync_settings.sync_interval)
    # Queued before the instance starts: its first pull takes them all.
    keys = await publish_jobs(nc, ns, [*demo, *flaky, *broken], window=1)
    syncer = SyncRuntime(sync_settings, timer=False)
    await syncer.start()
    try:

        async def all_logged() -> Counter[str] | None:
            found = await logs_by_key(syncer, keys)
            return found if len(found) == len(keys) else None

        found = await eventually(all_logged, timeout=30, what="a log for every job")
        assert set(found.values()) == {1}  # each job synced exactly once
        logs = {d["user_wallet_id"]: d async for d in syncer.store.logs.find({"key": {"$in": keys}})}
        for wallet_id, _ in demo:
            assert (logs[wallet_id]["status"], logs[wallet_id]["balance_snapshot"]) == (
                "success",
                {"USDT": Decimal(10000)},
            )
        for wallet_id, _ in flaky:  # retried after its transient failure, then synced
            assert (logs[wallet_id]["status"], logs[wallet_id]["balance_snapshot"]) == (
                "success",
                {"USDT": Decimal(7)},
            )
            assert FlakyWallet.calls[wallet_id] == 2
        for wallet_id, _ in broken:  # out of retries: recorded as failed, never lost
            assert logs[wallet_id]["status"] == "failed"
            assert "exchange unreachable" in logs[wallet_id]["error"]
        assert syncer.service.passes <= len(keys) // 2  # served in batches, not one by one
    finally:
        await syncer.stop()


async def test_three_instances_on_one_work_queue_sync_each_job_exactly_once(
    registry: RegistryRuntime, exchange: ExchangeRuntime, sync_settings: SyncSettings, nc: Client
) -> None:
    wallets = [await open_wallet(nc, "demo-v1", exchange) for _ in range(30)]
    async with AsyncExitStack() as stack:
        instances = []
        for _ in range(3):
            runtime = SyncRuntime(sync_settings.model_copy(), timer=False)
            await runtime.start()
            stack.push_async_callback(runtime.stop)
            instances.append(runtime)
        ns = sync_settings.mongodb_db_prefix
        keys = await publish_jobs(nc, ns, wallets, window=1)
        # A redelivered or re-offered job (same key) is dropped by the stream or found done by its key.
        keys += await publish_jobs(nc, ns, wallets[:10], window=1)

        async def all_logged() -> Counter[str] | None:
            found = await logs_by_key(instances[0], keys)
            return found if len(found) == len(wallets) else None

        found = await eventually(all_logged, timeout=30, what="a log for every job")
        assert set(found.values()) == {1}
        states = await instances[0].store.load_states([w for w, _ in wallets])
        assert {s["seq"] for s in states.values()} == {1}  # one sync per wallet, whoever ran it


async def test_two_syncs_of_one_wallet_requested_together_commit_one_after_the_other(
    registry: RegistryRuntime, exchange: ExchangeRuntime, sync_settings: SyncSettings, nc: Client
) -> None:
    wallet_id, user = await open_wallet(nc, "demo-v1", exchange)
    syncer = SyncRuntime(sync_settings, timer=False)
    await syncer.start()
    try:
        first, second = await asyncio.gather(
            syncer.service.run(wallet_id, user, SyncTrigger.MANUAL),
            syncer.service.run(wallet_id, user, SyncTrigger.MANUAL),
        )
        assert first is not None
        assert second is not None
        ids = sorted([first.id, second.id])
        assert ids == [f"balance-sync:{wallet_id}:1", f"balance-sync:{wallet_id}:2"]
        state = await syncer.store.load_state(wallet_id)
        assert (state["seq"], state["snapshot"]) == (2, {"USDT": Decimal(10000)})
    finally:
        await syncer.stop()


async def test_a_commit_that_loses_inside_a_bulk_write_reads_again_and_its_batch_mates_commit(
    registry: RegistryRuntime, exchange: ExchangeRuntime, sync_settings: SyncSettings, nc: Client
) -> None:
    """A (gated) and B share a batch; while A's reading waits, a second sync of A reads later and commits
    first. A's commit in the batch's bulk write loses: it reads again (30) and commits after; B commits."""
    gated_id, gated_user = await open_wallet(nc, SLOW)
    demo_id, demo_user = await open_wallet(nc, "demo-v1", exchange)
    SlowWallet.release = asyncio.Event()
    SlowWallet.readings = 0
    syncer = SyncRuntime(sync_settings, timer=False)
    await syncer.start()
    try:
        batch = asyncio.gather(
            syncer.service.run(gated_id, gated_user, SyncTrigger.MANUAL),
            syncer.service.run(demo_id, demo_user, SyncTrigger.MANUAL),
        )

        async def gated_reading_started() -> bool:
            return SlowWallet.readings == 1

        await eventually(gated_reading_started, what="the gated reading to start")
        overtaking = await syncer.service.run(gated_id, gated_user, SyncTrigger.MANUAL)  # reads 20, commits
        SlowWallet.release.set()
        late, demo_log = await batch
        assert overtaking is not None
        assert late is not None
        assert demo_log is not None
        assert overtaking.balance_snapshot == {"USDT": Decimal(20)}
        assert late.balance_snapshot == {"USDT": Decimal(30)}  # read again after losing: never rolled back
        assert late.balance_changes == {"USDT": Decimal(10)}
        assert (await syncer.store.load_state(gated_id))["snapshot"] == {"USDT": Decimal(30)}
        assert demo_log.id == f"balance-sync:{demo_id}:1"
        assert (await syncer.store.load_state(demo_id))["seq"] == 1
    finally:
        await syncer.stop()
