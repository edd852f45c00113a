"""balance-sync: the timer and sync service replacing Celery (issue #4). Empty until then."""
