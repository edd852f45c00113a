"""gateway: the HTTP edge. JWT auth, validation, routes → NATS requests, error replies → problem+json."""
