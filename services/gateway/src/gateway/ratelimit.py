"""Per-user rate limit on order placement: a token bucket per user, in each gateway process.

Defaults are generous (50 orders per second, bursts of 100) so a normal client never meets them; with N
gateway processes a user may place up to N times that. A refusal is 429 with ``Retry-After``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from contracts.errors import ErrorCode, ServiceError

MAX_TRACKED_USERS = 100_000


class RateLimited(ServiceError):
    def __init__(self, retry_after: float) -> None:
        super().__init__(ErrorCode.RATE_LIMITED, f"too many orders; retry in {retry_after:.2f}s")
        self.retry_after = retry_after

    @property
    def retry_after_header(self) -> str:
        return str(max(1, math.ceil(self.retry_after)))


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    def __init__(self, rate_per_second: float, burst: int) -> None:
        self.rate = rate_per_second  # request tokens per second (request counts and seconds, not money)
        self._capacity: float = burst
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str, now: float | None = None) -> None:
        """Spend one token of ``key``'s bucket or raise ``RateLimited`` with the wait until the next one."""
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_TRACKED_USERS:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(tokens=self._capacity, updated=now)
        bucket.tokens = min(self._capacity, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens < 1:
            raise RateLimited((1 - bucket.tokens) / self.rate)
        bucket.tokens -= 1

    def _forget_full(self, now: float) -> None:
        """Buckets that have refilled completely carry no information: drop them."""
        full = [
            k for k, b in self._buckets.items() if b.tokens + (now - b.updated) * self.rate >= self._capacity
        ]
        for key in full:
            del self._buckets[key]
