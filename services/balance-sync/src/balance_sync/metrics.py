"""balance-sync's business metrics (served on ``/metrics`` with the broker's):

- ``moniqo_syncs_total{status, trigger}``: syncs recorded (one per ``evt.balance.synced``), ``success`` or
  ``failed``, by trigger (``scheduled``, ``post_trade``, ``manual``).
- ``moniqo_sync_retries_total{trigger}``: sync attempts of a job that hit a transient failure and are
  retried (the job's last attempt records a ``failed`` sync instead).
- ``moniqo_sync_duration_seconds{trigger}``: how long fetching a recorded sync's balance took.

Counted by the service layer after the write that records a sync, never by the pure domain.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from contracts.sync import SyncStatus, SyncTrigger


class SyncMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.syncs = Counter(
            "moniqo_syncs",
            "Balance syncs recorded, by status and trigger",
            ["status", "trigger"],
            registry=registry,
        )
        self.retries = Counter(
            "moniqo_sync_retries",
            "Sync attempts retried after a transient failure",
            ["trigger"],
            registry=registry,
        )
        self.duration = Histogram(
            "moniqo_sync_duration_seconds",
            "Time to fetch the balance of a recorded sync",
            ["trigger"],
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        for trigger in SyncTrigger:  # every series exists from the start (rates need a zero)
            self.retries.labels(trigger.value)
            for status in SyncStatus:
                self.syncs.labels(status.value, trigger.value)

    def recorded(self, status: SyncStatus, trigger: SyncTrigger, duration_ms: float) -> None:
        self.syncs.labels(status.value, trigger.value).inc()
        self.duration.labels(trigger.value).observe(duration_ms / 1000)

    def retried(self, trigger: SyncTrigger) -> None:
        self.retries.labels(trigger.value).inc()
