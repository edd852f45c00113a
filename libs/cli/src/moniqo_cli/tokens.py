"""Dev tokens: HS256 JWTs whose ``sub`` is the user id (what the gateway verifies)."""

from __future__ import annotations

import time

import jwt


def mint_token(user_id: str, secret: str, ttl_seconds: int = 24 * 3600) -> str:
    now = int(time.time())
    return jwt.encode({"sub": user_id, "iat": now, "exp": now + ttl_seconds}, secret, algorithm="HS256")
