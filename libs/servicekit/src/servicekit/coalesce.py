"""Coalescing: concurrent callers each ask for one item, one call serves a batch of them.

A consumer pulls a batch of messages and handles each in its own task (its own ack, retry and
dead-letter decision); each handler ``await coalescer.submit(item)``. Items submitted while the event
loop is busy with the rest of the pulled batch (plus ``linger`` seconds) go to one ``run_batch`` call,
which answers each item with a result or an exception of its own — one failing item never fails the
others. At most ``concurrency`` batches run at once; items submitted while they all run wait and go
together into the next one, so batches grow with the load (and a lone item on an idle process goes at
once). Several batches in flight keep one slow batch (a venue taking its time) from holding the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

Outcome = object | BaseException
"""What ``run_batch`` answers for one item: its result, or the exception ``submit`` raises for it."""


@dataclass
class _Pending[T]:
    item: T
    future: asyncio.Future[object] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class Coalescer[T]:
    def __init__(
        self,
        run_batch: Callable[[list[T]], Awaitable[Sequence[Outcome]]],
        *,
        max_batch: int,
        concurrency: int = 4,
        linger: float = 0.002,
    ) -> None:
        if max_batch < 1 or concurrency < 1:
            raise ValueError("max_batch and concurrency must be at least 1")
        self._run_batch = run_batch
        self.max_batch = max_batch
        self.linger = linger
        self._slots = asyncio.Semaphore(concurrency)
        self._pending: list[_Pending[T]] = []
        self._collector: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self.batches = 0
        self.items = 0

    @property
    def waiting(self) -> int:
        """Items submitted and not yet in a batch."""
        return len(self._pending)

    async def submit(self, item: T) -> object:
        """The outcome of ``item`` in the batch it joins (raised when it is an exception)."""
        pending = _Pending(item)
        self._pending.append(pending)
        if self._collector is None or self._collector.done():
            self._collector = asyncio.create_task(self._collect())
        return await pending.future

    async def _collect(self) -> None:
        await asyncio.sleep(self.linger)  # the rest of a pulled batch reaches submit() meanwhile
        while self._pending:
            await self._slots.acquire()  # items keep arriving while every slot is busy
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            task = asyncio.create_task(self._serve(batch))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _serve(self, batch: list[_Pending[T]]) -> None:
        try:
            await self._serve_batch(batch)
        finally:
            self._slots.release()

    async def _serve_batch(self, batch: list[_Pending[T]]) -> None:
        live = [p for p in batch if not p.future.done()]  # a cancelled caller no longer waits
        if not live:
            return
        self.batches += 1
        self.items += len(live)
        try:
            outcomes = list(await self._run_batch([p.item for p in live]))
            if len(outcomes) != len(live):
                raise RuntimeError(f"run_batch answered {len(outcomes)} outcomes for {len(live)} items")
        except BaseException as exc:  # the whole batch failed (e.g. the store is down): each caller sees it
            for p in live:
                if not p.future.done():
                    p.future.set_exception(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        for p, outcome in zip(live, outcomes, strict=True):
            if p.future.done():
                continue
            if isinstance(outcome, BaseException):
                p.future.set_exception(outcome)
            else:
                p.future.set_result(outcome)

    async def aclose(self) -> None:
        """Cancel batches still running (shutdown); their callers see ``CancelledError``."""
        tasks = [t for t in (self._collector, *self._running) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
