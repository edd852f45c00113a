"""Small factories for test data (no copied dicts)."""

from __future__ import annotations

import uuid
from typing import Any

from cryptography.fernet import Fernet


def fernet_key() -> str:
    return Fernet.generate_key().decode()


def user_id(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def demo_wallet_body(name: str = "Paper", **extra: Any) -> dict[str, Any]:
    return {"wallet_provider_id": "demo-v1", "custom_name": name, **extra}


def binance_credentials() -> dict[str, str]:
    # Distinctive values so a leak is found by a plain substring search.
    return {"api_key": f"AKEY-{uuid.uuid4().hex}", "api_secret": f"ASECRET-{uuid.uuid4().hex}"}


def binance_wallet_body(
    name: str = "Binance main", credentials: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "wallet_provider_id": "binance-v1",
        "custom_name": name,
        "credentials": credentials if credentials is not None else binance_credentials(),
    }
