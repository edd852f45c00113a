"""balance-sync: the timer service (replaces Celery beat) and scheduled, post-trade and manual syncs."""
