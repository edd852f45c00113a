"""Moniqo's shared contract: every command, reply and event that crosses the bus or the HTTP edge.

Depends on pydantic only. Services import models from the submodules (``contracts.wallets``,
``contracts.events`` …); subject and stream names live in ``contracts.subjects``.
"""
