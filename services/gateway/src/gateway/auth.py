"""Bearer JWT verification (HS256 with JWT_SECRET, RS256 with JWT_PUBLIC_KEY). ``sub`` is the user id."""

from __future__ import annotations

import re
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from contracts.errors import ErrorCode, ServiceError
from gateway.settings import GatewaySettings

_USER_ID = re.compile(r"^[^\s]{1,128}$")
_bearer = HTTPBearer(auto_error=False, description="A JWT whose `sub` is your user id (`moniqo token`).")


class TokenVerifier:
    def __init__(self, settings: GatewaySettings) -> None:
        if settings.jwt_public_key:
            self._key: str = settings.jwt_public_key
            self._algorithms = ["RS256"]
        else:
            assert settings.jwt_secret is not None
            self._key = settings.jwt_secret.get_secret_value()
            self._algorithms = ["HS256"]

    def user_id(self, token: str) -> str:
        """The verified ``sub``; any problem (missing, malformed, expired, wrong key, alg=none) → 401."""
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
        return sub


def _unauthorized(detail: str) -> ServiceError:
    return ServiceError(ErrorCode.UNAUTHORIZED, detail)


async def current_user(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("an Authorization: Bearer <token> header is required")
    verifier: TokenVerifier = request.app.state.verifier
    return verifier.user_id(credentials.credentials)


UserIdDep = Annotated[str, Depends(current_user)]
