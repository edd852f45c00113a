"""What every Moniqo service shares: settings, the Mongo client with Decimal128, the NATS broker
with its error replies, the transactional-outbox relay to JetStream, logging and the uvloop runner."""
