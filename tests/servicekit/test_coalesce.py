"""Coalescer: concurrent callers' items served by one batch call, each with its own outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from servicekit.coalesce import Coalescer, Outcome
from tests.support.waiting import eventually


class Doubler:
    """Answers each item with its double; an item ``"bad"`` gets its own error; records every batch."""

    def __init__(self) -> None:
        self.batches: list[list[object]] = []
        self.release: asyncio.Event | None = None

    async def __call__(self, items: list[object]) -> Sequence[Outcome]:
        self.batches.append(list(items))
        if self.release is not None:
            await self.release.wait()
        return [ValueError(f"refused {i}") if i == "bad" else i * 2 for i in items]  # type: ignore[operator]


async def test_items_submitted_together_are_served_by_one_batch_each_with_its_own_result() -> None:
    run = Doubler()
    coalescer = Coalescer(run, max_batch=100)
    results = await asyncio.gather(*(coalescer.submit(i) for i in range(10)))
    assert results == [i * 2 for i in range(10)]
    assert run.batches == [list(range(10))]


async def test_a_failing_item_fails_alone_and_the_rest_of_its_batch_succeeds() -> None:
    coalescer = Coalescer(Doubler(), max_batch=100)
    results = await asyncio.gather(*(coalescer.submit(i) for i in (1, "bad", 3)), return_exceptions=True)
    assert results[0] == 2
    assert results[2] == 6
    assert isinstance(results[1], ValueError)


async def test_a_batch_that_fails_as_a_whole_fails_each_of_its_items() -> None:
    async def store_down(items: list[int]) -> Sequence[Outcome]:
        raise ConnectionError("store unreachable")

    coalescer = Coalescer(store_down, max_batch=100)
    results = await asyncio.gather(*(coalescer.submit(i) for i in range(3)), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)


async def test_batches_hold_at_most_max_batch_items() -> None:
    run = Doubler()
    coalescer = Coalescer(run, max_batch=4)
    assert await asyncio.gather(*(coalescer.submit(i) for i in range(10))) == [i * 2 for i in range(10)]
    assert [len(b) for b in run.batches] == [4, 4, 2]


async def test_items_arriving_while_every_slot_is_busy_wait_and_go_together() -> None:
    run = Doubler()
    run.release = asyncio.Event()
    coalescer = Coalescer(run, max_batch=100, concurrency=1)
    first = asyncio.create_task(coalescer.submit(0))

    async def first_batch_running() -> bool:
        return bool(run.batches)

    await eventually(first_batch_running, what="the first batch running")
    later = [asyncio.create_task(coalescer.submit(i)) for i in range(1, 6)]

    async def all_waiting() -> bool:
        return coalescer.waiting == 5

    await eventually(all_waiting, what="the later items waiting for a slot")
    assert len(run.batches) == 1  # the only slot is busy: they wait
    run.release.set()
    assert await first == 0
    assert [await t for t in later] == [2, 4, 6, 8, 10]
    assert run.batches == [[0], [1, 2, 3, 4, 5]]


def test_a_coalescer_needs_room_for_one_item() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Coalescer(Doubler(), max_batch=0)
