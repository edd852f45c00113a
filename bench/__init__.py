"""``make bench``: the platform measured against baselines taken in the same run (see bench/README.md)."""
