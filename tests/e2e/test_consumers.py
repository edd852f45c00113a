"""Every durable JetStream consumer of the platform, listed from the NATS server itself (so a new consumer
cannot be forgotten): a poison message goes to ``MONIQO_DLQ`` and the consumer keeps going; a transient
fault (the store unreachable) is retried and succeeds once the store is back; README documents each one.

The stack runs on its own Mongo wire server (SQLite file) that the test stops and restarts on its port.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerInfo
from nats.js.errors import NotFoundError

from contracts.subjects import EVENTS_STREAM, EventType, Sync, event_prefix
from contracts.sync import Maintenance, Sweep, SyncJob, SyncTrigger
from devstack.mongo import EmbeddedMongo
from servicekit.consumers import DLQ_STREAM
from tests.support.factories import fernet_key, user_id
from tests.support.stack import Stack, start_stack
from tests.support.trading import Trader, set_price
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow
README = Path(__file__).resolve().parents[2] / "README.md"
# Its work publishes a sync job on NATS and touches no store: a store outage cannot fail it.
STORE_FREE = {"balance-sync-post-trade"}


class RestartableMongo:
    """A Mongo wire server on a SQLite file that can be stopped and started again on the same port."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.server = self._start(0)
        self.port = int(self.server.url.split(":")[2].split("/")[0])

    def _start(self, port: int) -> EmbeddedMongo:
        return EmbeddedMongo(
            sqlite_path=self.root / "store.sqlite",
            ready_file=self.root / "ready",
            log_path=self.root / "mongo.log",
            port=port,
        )

    @property
    def url(self) -> str:
        # Fail fast while the server is down, so consumers see the fault instead of waiting 30 s for it.
        return f"{self.server.url}&serverSelectionTimeoutMS=400&connectTimeoutMS=400"

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server = self._start(self.port)


@pytest.fixture(scope="module")
def mongo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestartableMongo]:
    server = RestartableMongo(tmp_path_factory.mktemp("consumers-mongo"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack(
    nats_url: str, mongo: RestartableMongo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    running = start_stack(
        nats_url=nats_url,
        mongo_url=mongo.url,
        db_prefix=f"cons_{uuid.uuid4().hex[:10]}",
        log_dir=tmp_path_factory.mktemp("consumers-logs"),
        keys=fernet_key(),
        # A job retries MAX_DELIVER times (default 5, ~8 s) then records a failed sync: give the jobs a
        # budget longer than this test's outage, whatever the machine's load.
        extra_env={"OUTBOX_RELAY_INTERVAL": "0.5", "MAX_DELIVER": "30"},
    )
    yield running
    running.stop()


async def consumers(nc: Client, stack: Stack) -> list[tuple[str, ConsumerInfo]]:
    jsm = nc.jsm()
    found = []
    for stream in (EVENTS_STREAM, Sync.stream(stack.db_prefix)):
        for info in await jsm.consumers_info(stream):
            if info.name.startswith(f"{stack.db_prefix}-"):
                found.append((stream, info))
    return found


def short(info: ConsumerInfo, stack: Stack) -> str:
    return info.name.removeprefix(f"{stack.db_prefix}-")


def filter_of(info: ConsumerInfo) -> str:
    assert info.config.filter_subject, info.name
    return info.config.filter_subject


async def idle(nc: Client, stack: Stack) -> bool:
    return all(i.num_pending == 0 and i.num_ack_pending == 0 for _, i in await consumers(nc, stack))


async def dlq_last_seq(nc: Client) -> int:
    return int((await nc.jsm().stream_info(DLQ_STREAM)).state.last_seq)


async def exercise(http: httpx.AsyncClient, stack: Stack, nc: Client) -> tuple[Trader, str]:
    """Traffic that gives every consumer something: wallets created, renamed, deleted; a trade; a sync."""
    t = await Trader.open(http, stack, user_id("consumers"), balances={"USDT": "5000"})
    gone = await Trader.open(http, stack, t.user, balances={"USDT": "1"}, custom_name="gone")
    assert (await http.delete(gone.base, headers=gone.headers)).status_code == 204
    await set_price(http, stack, nc, "BTC/USDT", "66000")
    assert (await t.order(symbol="BTC/USDT", side="buy", type="market", quantity="0.001")).status_code == 201
    assert (await http.post(f"{t.base}/sync-balance", headers=t.headers)).status_code == 200
    r = await http.put(t.base, json={"custom_name": "renamed"}, headers=t.headers)
    assert r.status_code == 200, r.text
    await eventually(lambda: idle(nc, stack), timeout=30, what="consumers idle after the traffic")
    return t, gone.wallet["id"]


def readme_consumers() -> set[str]:
    text = README.read_text()
    section = text.split("### Consumers and their ack policy", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`<prefix>-([a-z-]+)`", section))


async def test_readme_documents_every_consumer_and_each_acks_manually(nc: Client, stack: Stack) -> None:
    found = await consumers(nc, stack)
    names = {short(info, stack) for _, info in found}
    assert len(names) >= 11
    assert names == readme_consumers()
    for _, info in found:
        assert info.config.ack_policy is not None
        assert AckPolicy(info.config.ack_policy) is AckPolicy.EXPLICIT, info.name
        assert info.config.max_deliver == -1, info.name  # settle() dead-letters; the server never drops


def concrete(filter_subject: str, token: str) -> str:
    return ".".join(token if part in {"*", ">"} else part for part in filter_subject.split("."))


async def test_a_poison_message_is_dead_lettered_by_every_consumer_which_keeps_going(
    http: httpx.AsyncClient, stack: Stack, nc: Client
) -> None:
    trader, _ = await exercise(http, stack, nc)
    js = nc.jetstream()
    poisoned: dict[str, tuple[str, int]] = {}
    for stream, info in await consumers(nc, stack):
        subject = concrete(filter_of(info), f"poison{uuid.uuid4().hex[:8]}")
        ack = await js.publish(
            subject, b"{not json", headers={"Nats-Msg-Id": uuid.uuid4().hex}, stream=stream
        )
        poisoned[info.name] = (subject, ack.seq)

    async def all_past_their_poison() -> bool:
        for _, info in await consumers(nc, stack):
            _, seq = poisoned[info.name]
            if info.ack_floor is None or info.ack_floor.stream_seq < seq or info.num_ack_pending:
                return False
        return True

    await eventually(all_past_their_poison, timeout=30, what="every consumer acked past its poison message")
    jsm = nc.jsm()
    for name, (subject, _) in poisoned.items():
        dead = await jsm.get_last_msg(DLQ_STREAM, f"dlq.{subject}")
        assert dead.data == b"{not json", name
        assert "ValidationError" in (dead.headers or {}).get("Moniqo-Error", ""), name

    # Not stalled: a trade after the poison still reaches the registry's one-at-a-time trade consumer.
    before = (await http.get(trader.base, headers=trader.headers)).json()["total_trades"]
    assert (
        await trader.order(symbol="BTC/USDT", side="sell", type="market", quantity="0.001")
    ).status_code == 201

    async def counted() -> bool:
        wallet = (await http.get(trader.base, headers=trader.headers)).json()
        return bool(wallet["total_trades"] == before + 1)

    await eventually(counted, timeout=20, what="the registry counted the trade made after the poison")


async def copy_of_a_real_message(
    nc: Client, stack: Stack, stream: str, info: ConsumerInfo, trader: Trader, deleted: str
) -> tuple[str, bytes]:
    """For an event consumer: the last event its filter took for one of this test's wallets. For the
    work queue (which keeps nothing once done): a fresh, valid message of the kind it consumes."""
    ns = stack.db_prefix
    subject = filter_of(info)
    if stream != EVENTS_STREAM:
        if subject == Sync.sweep(ns):
            return subject, Sweep(
                window=10**9 + uuid.uuid4().int % 10**6, interval_seconds=86400
            ).model_dump_json().encode()
        if subject == Sync.maintenance(ns):
            return subject, Maintenance(day=datetime.now(UTC).date().isoformat()).model_dump_json().encode()
        job = SyncJob(
            wallet_id=trader.wallet["id"],
            user_id=trader.user,
            trigger=SyncTrigger.MANUAL,
            key=f"{trader.wallet['id']}:outage:{uuid.uuid4().hex[:8]}",
        )
        return Sync.job(ns, job.wallet_id), job.model_dump_json().encode()
    for wallet_id in (trader.wallet["id"], deleted):
        wanted = subject.replace(">", "*." + wallet_id) if subject.endswith(">") else subject[:-1] + wallet_id
        try:
            msg = await nc.jsm().get_last_msg(stream, wanted)
        except NotFoundError:
            continue
        if str(msg.subject).startswith(event_prefix(EventType.TRADE_EXECUTED)):
            return str(msg.subject), _as_next_trade(msg.data or b"")
        return str(msg.subject), msg.data or b""
    raise AssertionError(f"no event for {info.name} among this test's wallets")


def _as_next_trade(data: bytes) -> bytes:
    """The same trade under a sequence nobody has applied yet. The registry's trade counters recognise
    a replay of a trade they applied from their own memory, without the store; a trade they have not
    seen must reach the store. demo-exchange's history still meets a trade it holds (same id): no
    phantom trade for the audit."""
    event = json.loads(data)
    event["sequence"] = 10**9 + uuid.uuid4().int % 10**6
    return json.dumps(event).encode()


async def test_a_store_outage_is_retried_by_every_consumer_and_succeeds_once_the_store_is_back(
    http: httpx.AsyncClient, stack: Stack, nc: Client, mongo: RestartableMongo
) -> None:
    trader, deleted = await exercise(http, stack, nc)
    found = await consumers(nc, stack)
    copies = [
        (stream, info, *await copy_of_a_real_message(nc, stack, stream, info, trader, deleted))
        for stream, info in found
    ]
    dlq_before = await dlq_last_seq(nc)
    syncs_before = await sync_log_count(http, trader)
    js = nc.jetstream()
    mongo.stop()
    try:
        for stream, _, subject, data in copies:
            await js.publish(subject, data, headers={"Nats-Msg-Id": uuid.uuid4().hex}, stream=stream)

        async def each_failed_at_least_once() -> list[str] | None:
            now = {short(i, stack): i for _, i in await consumers(nc, stack)}
            waiting = [n for n, i in now.items() if n not in STORE_FREE and i.num_redelivered == 0]
            return None if waiting else sorted(now)

        await eventually(
            each_failed_at_least_once, timeout=30, what="every store-bound consumer redelivering"
        )
    finally:
        mongo.start()
    await eventually(lambda: idle(nc, stack), timeout=60, what="every consumer done once the store is back")
    new_dead = [
        await nc.jsm().get_msg(DLQ_STREAM, seq) for seq in range(dlq_before + 1, await dlq_last_seq(nc) + 1)
    ]
    ours = [
        m.subject
        for m in new_dead
        if stack.db_prefix in str(m.subject) or trader.wallet["id"] in str(m.subject)
    ]
    assert ours == [], "dead-lettered instead of retried"
    # The job published during the outage ran once the store was back: a manual sync log exists.
    assert await eventually(lambda: more_syncs(http, trader, syncs_before), timeout=20, what="the job's sync")


async def sync_log_count(http: httpx.AsyncClient, trader: Trader) -> int:
    r = await http.get(f"{trader.base}/sync-logs", params={"limit": 200}, headers=trader.headers)
    assert r.status_code == 200, r.text
    return len(r.json()["items"])


async def more_syncs(http: httpx.AsyncClient, trader: Trader, before: int) -> bool:
    return await sync_log_count(http, trader) > before
