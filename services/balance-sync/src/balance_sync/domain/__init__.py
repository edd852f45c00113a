"""Pure sync rules: windows, debounce buckets, balance comparison. No faststream / pymongo / settings."""
