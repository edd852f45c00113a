"""A bounded map that forgets the least recently used entry first. It holds the per-process copies of
documents this process last wrote (demo accounts, the registry's trade counters) — only a guess at the
stored document: every write made from it is conditional on what it was read with, so losing one, or
finding it stale, costs a read, never a wrong write — and the gateway's verified tokens. ``size=0`` keeps
nothing."""

from __future__ import annotations

from collections import OrderedDict


class Lru[V]:
    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[str, V] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> V | None:
        value = self._entries.get(key)
        if value is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return value

    def put(self, key: str, value: V) -> None:
        if self._size <= 0:
            return
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def drop(self, key: str) -> None:
        self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)
