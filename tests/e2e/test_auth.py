"""JWT auth at the edge: every bad token is a 401 problem; ``sub`` is the only source of the user id."""

from __future__ import annotations

import base64
import json
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.factories import demo_wallet_body, user_id
from tests.support.stack import Stack

pytestmark = pytest.mark.slow
URL = "/api/v1/user-wallets"


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def bad_tokens(stack: Stack) -> dict[str, str | None]:
    now = int(time.time())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return {
        "missing": None,
        "malformed": "not.a.jwt",
        "garbage": "abc",
        "expired": jwt.encode({"sub": "u", "exp": now - 10}, stack.jwt_secret, algorithm="HS256"),
        "wrong_signature": jwt.encode(
            {"sub": "u", "exp": now + 60}, "another-secret-of-32-characters!!", algorithm="HS256"
        ),
        "alg_none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64({'sub': 'u', 'exp': now + 60})}.",
        "no_exp": jwt.encode({"sub": "u"}, stack.jwt_secret, algorithm="HS256"),
        "no_sub": jwt.encode({"exp": now + 60}, stack.jwt_secret, algorithm="HS256"),
        "empty_sub": jwt.encode({"sub": "", "exp": now + 60}, stack.jwt_secret, algorithm="HS256"),
        "rs256_when_hs256_configured": jwt.encode({"sub": "u", "exp": now + 60}, pem, algorithm="RS256"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "malformed",
        "garbage",
        "expired",
        "wrong_signature",
        "alg_none",
        "no_exp",
        "no_sub",
        "empty_sub",
        "rs256_when_hs256_configured",
    ],
)
async def test_bad_token_is_401_problem(http: httpx.AsyncClient, stack: Stack, case: str) -> None:
    token = bad_tokens(stack)[case]
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    r = await http.get(URL, headers=headers)
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json()["code"] == "unauthorized"


async def test_basic_auth_scheme_is_401(http: httpx.AsyncClient) -> None:
    r = await http.get(URL, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert r.status_code == 401


async def test_user_id_in_query_is_ignored_and_in_body_is_rejected(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    me, victim = user_id("me"), user_id("victim")
    theirs = await http.post(URL, json=demo_wallet_body(), headers=stack.headers(victim))
    assert theirs.status_code == 201
    mine = await http.get(URL, params={"user_id": victim}, headers=stack.headers(me))
    assert mine.status_code == 200
    assert mine.json()["items"] == []
    r = await http.post(URL, json={**demo_wallet_body("x"), "user_id": victim}, headers=stack.headers(me))
    assert r.status_code == 422
    created = await http.post(URL, json=demo_wallet_body("mine"), headers=stack.headers(me))
    assert created.json()["user_id"] == me
