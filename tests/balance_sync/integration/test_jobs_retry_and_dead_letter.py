"""Sync jobs on the work queue: a transient failure is retried and succeeds; a job that always fails ends
in the dead-letter stream and the consumer keeps going. Real NATS, real Mongo wire server, in-process
wallet-registry and balance-sync; only the exchange connector is a test double, registered in the factory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from nats.aio.client import Client
from nats.js.api import ConsumerConfig, DeliverPolicy

from balance_sync.app import SyncRuntime
from balance_sync.settings import SyncSettings
from contracts.subjects import Sync
from contracts.sync import SyncJob, SyncTrigger
from servicekit.consumers import DLQ_STREAM
from tests.support.doubles import BROKEN, FLAKY, SLOW, FlakyWallet, SlowWallet, open_wallet, publish_job
from tests.support.waiting import eventually
from wallet_registry.app import RegistryRuntime


@pytest.fixture
async def syncer(sync_settings: SyncSettings) -> AsyncIterator[SyncRuntime]:
    runtime = SyncRuntime(sync_settings, timer=False)
    await runtime.start()
    yield runtime
    await runtime.stop()


async def test_transient_failure_is_retried_and_succeeds_on_redelivery(
    registry: RegistryRuntime, syncer: SyncRuntime, nc: Client
) -> None:
    wallet_id, user = await open_wallet(nc, FLAKY)
    ns = syncer.settings.mongodb_db_prefix
    await publish_job(nc, ns, wallet_id, user, f"{wallet_id}:1")

    async def logged() -> list[dict[str, Any]] | None:
        docs = await syncer.store.logs.find({"user_wallet_id": wallet_id}).to_list()
        return docs or None

    (log,) = await eventually(logged, what="the sync log after a retry")
    assert (log["status"], log["key"], log["error"]) == ("success", f"{wallet_id}:1", None)
    assert log["balance_snapshot"] == {"USDT": Decimal(7)}
    assert FlakyWallet.calls[wallet_id] == 2


async def test_a_job_that_always_fails_is_dead_lettered_and_the_consumer_keeps_going(
    registry: RegistryRuntime, syncer: SyncRuntime, nc: Client
) -> None:
    ns = syncer.settings.mongodb_db_prefix
    broken_id, broken_user = await open_wallet(nc, BROKEN)
    flaky_id, flaky_user = await open_wallet(nc, FLAKY)
    await publish_job(nc, ns, broken_id, broken_user, f"{broken_id}:1")
    await publish_job(nc, ns, flaky_id, flaky_user, f"{flaky_id}:1")

    js = nc.jetstream()
    dead_subject = Sync.dead(Sync.job(ns, broken_id))
    sub = await js.pull_subscribe(
        dead_subject, stream=DLQ_STREAM, config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
    )

    async def dead_letters() -> list[Any] | None:
        try:
            return await sub.fetch(1, timeout=0.5)
        except TimeoutError:
            return None

    (dead,) = await eventually(dead_letters, timeout=20, what="the job in the dead-letter stream")
    assert (dead.headers or {}).get("Moniqo-Error", "").startswith("TransientSyncError")
    assert SyncJob.model_validate_json(dead.data).wallet_id == broken_id
    await dead.ack()
    await sub.unsubscribe()

    async def flaky_synced() -> dict[str, Any] | None:
        return await syncer.store.logs.find_one({"user_wallet_id": flaky_id, "status": "success"})

    await eventually(flaky_synced, timeout=20, what="the next job synced despite the poison one")
    failed = await syncer.store.logs.find({"user_wallet_id": broken_id}).to_list()
    assert [(d["status"], d["key"]) for d in failed] == [("failed", f"{broken_id}:1")]  # recorded, never lost
    assert "exchange unreachable" in failed[0]["error"]


async def test_overlapping_syncs_never_roll_the_snapshot_back(
    registry: RegistryRuntime, syncer: SyncRuntime, nc: Client
) -> None:
    """A reads first but is slow; B reads later and commits first; A's stale reading must not win."""
    wallet_id, user = await open_wallet(nc, SLOW)
    SlowWallet.release = asyncio.Event()
    SlowWallet.readings = 0
    slow = asyncio.create_task(syncer.service.run(wallet_id, user, SyncTrigger.MANUAL))

    async def first_reading_started() -> bool:
        return SlowWallet.readings == 1

    await eventually(first_reading_started, what="the slow reading to start")
    fast = await syncer.service.run(wallet_id, user, SyncTrigger.MANUAL)  # reads 20 and commits first
    SlowWallet.release.set()
    late = await slow  # its reading of 10 is stale: it must read again (30) and commit after
    assert fast is not None
    assert late is not None
    assert fast.balance_snapshot == {"USDT": Decimal(20)}
    assert late.balance_snapshot == {"USDT": Decimal(30)}
    assert late.balance_changes == {"USDT": Decimal(10)}
    state = await syncer.store.load_state(wallet_id)
    assert state["snapshot"] == {"USDT": Decimal(30)}


async def test_a_job_whose_log_write_failed_is_not_synced_twice_and_its_log_comes_from_the_event(
    registry: RegistryRuntime, syncer: SyncRuntime, nc: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    wallet_id, user = await open_wallet(nc, FLAKY)
    FlakyWallet.calls[wallet_id] = 1  # no transient failure this time
    real_save = syncer.store.save_logs
    failures = 0

    async def save_logs_fails_once(*args: Any, **kwargs: Any) -> None:
        nonlocal failures
        if failures == 0:
            failures += 1
            raise ConnectionError("the process died after committing (simulated)")
        await real_save(*args, **kwargs)

    monkeypatch.setattr(syncer.store, "save_logs", save_logs_fails_once)
    ns = syncer.settings.mongodb_db_prefix
    await publish_job(nc, ns, wallet_id, user, f"{wallet_id}:7")

    async def one_log() -> list[dict[str, Any]] | None:
        docs = await syncer.store.logs.find({"user_wallet_id": wallet_id}).to_list()
        return docs or None

    (log,) = await eventually(one_log, timeout=20, what="the log, rebuilt from its event")
    assert (log["key"], log["seq"], log["status"]) == (f"{wallet_id}:7", 1, "success")
    state = await syncer.store.load_state(wallet_id)
    assert (state["seq"], state["keys"]) == (1, [f"{wallet_id}:7"])  # synced once, not twice
    assert FlakyWallet.calls[wallet_id] == 2  # one reading only


async def test_maintenance_runs_once_per_day_however_often_it_is_offered(syncer: SyncRuntime) -> None:
    store = syncer.store
    assert await store.claim_maintenance_day("2026-11-25") is True
    assert await store.claim_maintenance_day("2026-11-25") is False
    assert await store.claim_maintenance_day("2026-11-24") is False
    assert await store.claim_maintenance_day("2026-11-26") is True
