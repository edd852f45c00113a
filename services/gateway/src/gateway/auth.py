"""Bearer JWT verification (HS256 with JWT_SECRET, RS256 with JWT_PUBLIC_KEY). ``sub`` is the user id.

A client sends the same token with every request until it expires, and verifying it (base64, JSON, HMAC or
RSA, claims) was ~9 % of the gateway's CPU under load (bench P1 profile). Tokens that verified are
remembered — by their exact string, with their ``sub`` and ``exp`` — in a bounded LRU: a later request
with the same string only re-checks ``exp`` against the clock. That is the one check whose answer changes
with time in the valid → invalid direction (``nbf`` and ``iat`` only ever become valid); a token that
failed verification is never remembered. The key cannot change while the process runs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from contracts.errors import ErrorCode, ServiceError
from gateway.settings import GatewaySettings
from servicekit.lru import Lru

_USER_ID = re.compile(r"^[^\s]{1,128}$")


VERIFIED_TOKENS_KEPT = 4096


class TokenVerifier:
    def __init__(
        self,
        settings: GatewaySettings,
        *,
        kept: int = VERIFIED_TOKENS_KEPT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._verified: Lru[tuple[str, int]] = Lru(kept)  # token → (sub, exp)
        self._clock = clock
        if settings.jwt_public_key:
            self._key: str = settings.jwt_public_key
            self._algorithms = ["RS256"]
        else:
            assert settings.jwt_secret is not None
            self._key = settings.jwt_secret.get_secret_value()
            self._algorithms = ["HS256"]

    def user_id(self, token: str) -> str:
        """The verified ``sub``; any problem (missing, malformed, expired, wrong key, alg=none) → 401."""
        known = self._verified.get(token)
        if known is not None:
            sub, exp = known
            if exp <= self._clock():  # PyJWT's own rule (no leeway): expired at exp
                self._verified.drop(token)
                raise _unauthorized("the token has expired")
            return sub
        sub, exp = self._verify(token)
        self._verified.put(token, (sub, exp))
        return sub

    def _verify(self, token: str) -> tuple[str, int]:
        try:
            claims = jwt.decode(
                token, self._key, algorithms=self._algorithms, options={"require": ["exp", "sub"]}
            )
        except jwt.ExpiredSignatureError:
            raise _unauthorized("the token has expired") from None
        except jwt.PyJWTError:
            raise _unauthorized("the token is not valid") from None
        sub = claims.get("sub")
        if not isinstance(sub, str) or not _USER_ID.fullmatch(sub):
            raise _unauthorized("the token's sub is not a user id")
        return sub, int(claims["exp"])  # PyJWT checked that it is an integer and still in the future


def _unauthorized(detail: str) -> ServiceError:
    return ServiceError(ErrorCode.UNAUTHORIZED, detail)


class BearerUser(HTTPBearer):
    """FastAPI's ``HTTPBearer`` security scheme (the same OpenAPI entry) that also verifies the token and
    answers the user id: one dependency per request where ``HTTPBearer`` + a verifying dependency were two
    (FastAPI's bookkeeping per dependency, not the dependencies, was most of ``solve_dependencies`` in the
    bench P1 profile). The header is read exactly as ``HTTPBearer`` reads it."""

    async def __call__(self, request: Request) -> str:  # type: ignore[override]
        return bearer_user(request.headers.get("Authorization"), request.app.state.verifier)


def bearer_user(authorization: str | None, verifier: TokenVerifier) -> str:
    """The user id of an ``Authorization`` header's bearer token, read as ``HTTPBearer`` reads it."""
    scheme, token = get_authorization_scheme_param(authorization)
    if not (authorization and scheme and token) or scheme.lower() != "bearer":
        raise _unauthorized("an Authorization: Bearer <token> header is required")
    return verifier.user_id(token)


current_user = BearerUser(
    auto_error=False,
    scheme_name="HTTPBearer",
    description="A JWT whose `sub` is your user id (`moniqo token`).",
)


UserIdDep = Annotated[str, Depends(current_user)]
