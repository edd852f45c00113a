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


SECRET = "k3y-f0r-the-t0ken-cache-tests-0123456789abcdef"


class Clock:
    """The verifier's clock, moved by hand (PyJWT checks the real one when it verifies)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def hs256(sub: str, exp: int, secret: str = SECRET) -> str:
    return jwt.encode({"sub": sub, "exp": exp}, secret, algorithm="HS256")


def counting_decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = jwt.decode

    def decode(token: str, *args: object, **kwargs: object) -> object:
        seen.append(token)
        return real(token, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jwt, "decode", decode)
    return seen


def test_remembered_token_is_refused_once_its_exp_passes() -> None:
    clock = Clock()
    verifier = TokenVerifier(GatewaySettings(jwt_secret=SecretStr(SECRET)), clock=clock)
    exp = int(clock.now) + 60
    token = hs256("dave", exp)
    assert verifier.user_id(token) == "dave"
    clock.now = exp - 1
    assert verifier.user_id(token) == "dave"  # remembered, still valid
    clock.now = exp  # PyJWT's rule: expired at exp
    with pytest.raises(ServiceError) as info:
        verifier.user_id(token)
    assert info.value.code is ErrorCode.UNAUTHORIZED
    assert "expired" in info.value.detail


def test_a_verified_token_is_not_verified_again(monkeypatch: pytest.MonkeyPatch) -> None:
    decodes = counting_decodes(monkeypatch)
    verifier = TokenVerifier(GatewaySettings(jwt_secret=SecretStr(SECRET)))
    token = hs256("erin", int(time.time()) + 60)
    for _ in range(3):
        assert verifier.user_id(token) == "erin"
    assert decodes == [token]


def test_a_refused_token_is_never_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    decodes = counting_decodes(monkeypatch)
    verifier = TokenVerifier(GatewaySettings(jwt_secret=SecretStr(SECRET)))
    forged = hs256("mallory", int(time.time()) + 60, secret="another-secret-" + SECRET)
    for _ in range(2):
        with pytest.raises(ServiceError) as info:
            verifier.user_id(forged)
        assert info.value.code is ErrorCode.UNAUTHORIZED
    assert decodes == [forged, forged]


def test_remembered_tokens_are_bounded_least_recently_used_first(monkeypatch: pytest.MonkeyPatch) -> None:
    decodes = counting_decodes(monkeypatch)
    verifier = TokenVerifier(GatewaySettings(jwt_secret=SecretStr(SECRET)), kept=2)
    exp = int(time.time()) + 60
    a, b, c = (hs256(user, exp) for user in ("ann", "bob", "cid"))
    verifier.user_id(a)
    verifier.user_id(b)
    verifier.user_id(a)  # a is now the most recently used: b goes first
    verifier.user_id(c)
    verifier.user_id(a)
    verifier.user_id(b)  # forgotten: verified again
    assert decodes == [a, b, c, b]
