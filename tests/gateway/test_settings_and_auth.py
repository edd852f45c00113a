"""Gateway key configuration is checked at start; RS256 works and cannot be confused with HS256."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import SecretStr, ValidationError

from contracts.errors import ErrorCode, ServiceError
from gateway.auth import TokenVerifier
from gateway.settings import GatewaySettings


def rsa_pair() -> tuple[bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public.decode()


@pytest.mark.parametrize(
    "secret", ["change-me-to-at-least-32-random-characters", "a" * 40, "abababababababababababababababababab"]
)
def test_placeholder_or_low_variety_jwt_secret_is_refused(secret: str) -> None:
    with pytest.raises(ValidationError, match="placeholder"):
        GatewaySettings(jwt_secret=SecretStr(secret))


@pytest.mark.parametrize("pem", ["not a key", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"])
def test_unparseable_public_key_is_refused_at_start(pem: str) -> None:
    with pytest.raises(ValidationError, match="not a PEM public key"):
        GatewaySettings(jwt_public_key=pem)


def test_non_rsa_public_key_is_refused_at_start() -> None:
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    with pytest.raises(ValidationError, match="RSA public key"):
        GatewaySettings(jwt_public_key=pem)


def test_rs256_token_is_verified_with_the_public_key() -> None:
    private, public = rsa_pair()
    verifier = TokenVerifier(GatewaySettings(jwt_public_key=public))
    token = jwt.encode({"sub": "carol", "exp": int(time.time()) + 60}, private, algorithm="RS256")
    assert verifier.user_id(token) == "carol"


def test_hs256_token_signed_with_the_public_key_is_refused() -> None:
    """Algorithm confusion: an attacker signs HS256 with the (public) RSA key as the secret."""
    _, public = rsa_pair()
    verifier = TokenVerifier(GatewaySettings(jwt_public_key=public))
    forged = _forge_hs256(public)
    with pytest.raises(ServiceError) as info:
        verifier.user_id(forged)
    assert info.value.code is ErrorCode.UNAUTHORIZED


def _forge_hs256(public_pem: str) -> str:
    import base64
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps({"sub": "mallory", "exp": int(time.time()) + 60}).encode())
    signature = hmac.new(public_pem.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"
