"""End to end over HTTP: gateway and wallet-registry as real processes on real NATS and Mongo."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from servicekit.mongo import Document
from tests.support.factories import binance_credentials, binance_wallet_body, demo_wallet_body, user_id
from tests.support.stack import Stack

pytestmark = pytest.mark.slow

WALLETS = "/api/v1/user-wallets"


async def create(http: httpx.AsyncClient, stack: Stack, user: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await http.post(WALLETS, json=body, headers=stack.headers(user))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def assert_problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    assert body["code"] == code
    assert {"type", "title", "detail"} <= set(body)
    return body


async def test_wallet_lifecycle_create_list_get_update_delete(
    http: httpx.AsyncClient, stack: Stack, stack_db: AsyncDatabase[Document]
) -> None:
    user = user_id()
    h = stack.headers(user)
    wallet = await create(
        http, stack, user, demo_wallet_body("Paper", initial_balances={"USDT": "2500.50", "BTC": "0.1"})
    )
    assert wallet["user_id"] == user
    assert wallet["provider_slug"] == "demo-v1"
    assert wallet["is_demo"] is True
    assert wallet["balance"] == {"USDT": "2500.50", "BTC": "0.1"}
    assert wallet["credentials_set"] == []

    listed = (await http.get(WALLETS, headers=h)).json()
    assert [w["id"] for w in listed["items"]] == [wallet["id"]]
    assert listed["next_cursor"] is None
    assert (await http.get(f"{WALLETS}/{wallet['id']}", headers=h)).json() == wallet

    r = await http.put(
        f"{WALLETS}/{wallet['id']}", json={"custom_name": "Renamed", "is_active": False}, headers=h
    )
    assert r.status_code == 200, r.text
    updated = r.json()
    assert (updated["custom_name"], updated["is_active"]) == ("Renamed", False)
    assert updated["updated_at"] >= wallet["updated_at"]
    assert (await http.get(f"{WALLETS}/{wallet['id']}", headers=h)).json() == updated

    r = await http.delete(f"{WALLETS}/{wallet['id']}", headers=h)
    assert r.status_code == 204
    assert r.content == b""
    assert_problem(await http.get(f"{WALLETS}/{wallet['id']}", headers=h), 404, "wallet_not_found")
    assert (await http.get(WALLETS, headers=h)).json()["items"] == []
    raw = await stack_db["user_wallets"].find_one({"_id": ObjectId(wallet["id"])})
    assert raw is not None
    assert raw["deleted_at"] is not None
    assert raw["custom_name"] == "Renamed"


async def test_second_user_gets_404_on_every_one_of_the_first_users_wallet_routes(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    owner, intruder = user_id("alice"), user_id("bob")
    wallet = await create(http, stack, owner, demo_wallet_body())
    url = f"{WALLETS}/{wallet['id']}"
    h = stack.headers(intruder)
    for method, body in (("GET", None), ("PUT", {"custom_name": "pwned"}), ("DELETE", None)):
        r = await http.request(method, url, json=body, headers=h)
        assert_problem(r, 404, "wallet_not_found")
    assert (await http.get(WALLETS, headers=h)).json()["items"] == []
    still = (await http.get(url, headers=stack.headers(owner))).json()
    assert still["custom_name"] == wallet["custom_name"]


async def test_duplicate_name_is_409_and_the_name_is_free_again_after_delete(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    user = user_id()
    first = await create(http, stack, user, demo_wallet_body("Same"))
    assert_problem(
        await http.post(WALLETS, json=demo_wallet_body("Same"), headers=stack.headers(user)),
        409,
        "duplicate_name",
    )
    other_user = await create(http, stack, user_id(), demo_wallet_body("Same"))  # names are per user
    assert other_user["custom_name"] == "Same"
    second = await create(http, stack, user, demo_wallet_body("Other"))
    rename = await http.put(
        f"{WALLETS}/{second['id']}", json={"custom_name": "Same"}, headers=stack.headers(user)
    )
    assert_problem(rename, 409, "duplicate_name")
    await http.delete(f"{WALLETS}/{first['id']}", headers=stack.headers(user))
    assert (await create(http, stack, user, demo_wallet_body("Same")))["id"] != first["id"]


@pytest.mark.parametrize(
    ("credentials", "fragment"),
    [
        ({"api_key": "k"}, "missing credentials: api_secret"),
        (None, "missing credentials: api_key, api_secret"),
        ({"api_key": "k", "api_secret": "s", "otp": "1"}, "unknown credentials: otp"),
    ],
)
async def test_credentials_must_match_the_provider(
    http: httpx.AsyncClient, stack: Stack, credentials: dict[str, str] | None, fragment: str
) -> None:
    body: dict[str, Any] = {"wallet_provider_id": "binance-v1", "custom_name": "b"}
    if credentials is not None:
        body["credentials"] = credentials
    problem = assert_problem(
        await http.post(WALLETS, json=body, headers=stack.headers(user_id())), 422, "invalid_credentials"
    )
    assert fragment in problem["detail"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (demo_wallet_body(initial_balances={"USDT": 100.5}), "validation_error"),
        (demo_wallet_body(initial_balances={"USDT": "-1"}), "validation_error"),
        (demo_wallet_body(user_id="mallory"), "validation_error"),
        (demo_wallet_body(is_admin=True), "validation_error"),
        ({"wallet_provider_id": "nope-v1", "custom_name": "x"}, "invalid_provider"),
        ({**binance_wallet_body(), "initial_balances": {"USDT": "1"}}, "initial_balances_not_allowed"),
        (demo_wallet_body(risk_limits={"max_order_notional": 10}), "validation_error"),
    ],
)
async def test_bad_wallet_bodies_are_422_and_create_nothing(
    http: httpx.AsyncClient, stack: Stack, body: dict[str, Any], code: str
) -> None:
    user = user_id()
    assert_problem(await http.post(WALLETS, json=body, headers=stack.headers(user)), 422, code)
    assert (await http.get(WALLETS, headers=stack.headers(user))).json()["items"] == []


async def test_validation_problem_lists_fields_without_echoing_input(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    secret = f"SECRET-{uuid.uuid4().hex}"
    body = {
        "wallet_provider_id": "binance-v1",
        "custom_name": "b",
        "credentials": {"api_key": secret, "api_secret": 5},
    }
    r = await http.post(WALLETS, json=body, headers=stack.headers(user_id()))
    problem = assert_problem(r, 422, "validation_error")
    assert problem["errors"]
    assert all({"loc", "msg", "type"} == set(e) for e in problem["errors"])
    assert secret not in r.text


async def test_no_response_contains_a_credential_value_or_its_ciphertext(
    http: httpx.AsyncClient, stack: Stack, stack_db: AsyncDatabase[Document]
) -> None:
    user = user_id()
    h = stack.headers(user)
    creds, new_creds = binance_credentials(), binance_credentials()
    bodies: list[str] = []
    r = await http.post(WALLETS, json=binance_wallet_body(credentials=creds), headers=h)
    bodies.append(r.text)
    wallet = r.json()
    assert wallet["credentials_set"] == ["api_key", "api_secret"]
    bodies.append((await http.get(WALLETS, headers=h)).text)
    bodies.append((await http.get(f"{WALLETS}/{wallet['id']}", headers=h)).text)
    bodies.append(
        (await http.put(f"{WALLETS}/{wallet['id']}", json={"credentials": new_creds}, headers=h)).text
    )
    bodies.append(
        (await http.post(WALLETS, json=binance_wallet_body(credentials=creds), headers=h)).text
    )  # 409
    raw = await stack_db["user_wallets"].find_one({"_id": ObjectId(wallet["id"])})
    assert raw is not None
    ciphertexts = list(raw["credentials"].values())
    for secret in [*creds.values(), *new_creds.values()]:
        assert all(secret not in body for body in bodies)
        assert secret not in str(raw)
    for token in ciphertexts:
        assert all(token not in body for body in bodies)
    assert all("gAAAA" not in body for body in bodies)


async def test_list_pages_newest_first_with_a_cursor(http: httpx.AsyncClient, stack: Stack) -> None:
    user = user_id()
    made = [await create(http, stack, user, demo_wallet_body(f"w{i}")) for i in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await http.get(WALLETS, params=params, headers=stack.headers(user))).json()
        assert len(page["items"]) <= 2
        seen += [w["id"] for w in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [w["id"] for w in reversed(made)]
    assert_problem(
        await http.get(WALLETS, params={"limit": 201}, headers=stack.headers(user)), 422, "validation_error"
    )
    assert_problem(
        await http.get(WALLETS, params={"cursor": "bm90LWFuLWlk"}, headers=stack.headers(user)),
        422,
        "validation_error",
    )


async def test_idempotency_key_makes_a_create_retry_safe(http: httpx.AsyncClient, stack: Stack) -> None:
    user = user_id()
    h = {**stack.headers(user), "Idempotency-Key": f"create-{uuid.uuid4().hex}"}
    first = await http.post(WALLETS, json=demo_wallet_body("Once"), headers=h)
    again = await http.post(WALLETS, json=demo_wallet_body("Once"), headers=h)
    changed = await http.post(WALLETS, json=demo_wallet_body("Twice"), headers=h)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert_problem(changed, 409, "idempotency_conflict")
    assert len((await http.get(WALLETS, headers=stack.headers(user))).json()["items"]) == 1
    # Once that wallet is deleted, the key cannot replay it nor make another (found by the stateful fuzz run:
    # it was an undocumented 404).
    assert (
        await http.delete(f"{WALLETS}/{first.json()['id']}", headers=stack.headers(user))
    ).status_code == 204
    gone = await http.post(WALLETS, json=demo_wallet_body("Once"), headers=h)
    assert "deleted" in assert_problem(gone, 409, "idempotency_conflict")["detail"]


async def test_definitions_are_listed_filtered_and_found_by_id_or_slug(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    h = stack.headers(user_id())
    listed = (await http.get("/api/v1/wallets/definitions", headers=h)).json()["items"]
    slugs = {d["slug"] for d in listed}
    assert {"demo-v1", "binance-v1"} <= slugs
    demo = (
        await http.get("/api/v1/wallets/definitions", params={"integration_type": "demo"}, headers=h)
    ).json()
    assert [d["slug"] for d in demo["items"]] == ["demo-v1"]
    cex = (await http.get("/api/v1/wallets/definitions", params={"is_demo": "false"}, headers=h)).json()[
        "items"
    ]
    assert cex
    assert all(not d["is_demo"] for d in cex)
    binance = (await http.get("/api/v1/wallets/definitions/binance-v1", headers=h)).json()
    assert binance["required_credentials"] == ["api_key", "api_secret"]
    assert (await http.get(f"/api/v1/wallets/definitions/{binance['id']}", headers=h)).json() == binance
    assert_problem(
        await http.get("/api/v1/wallets/definitions/nope-v1", headers=h), 404, "provider_not_found"
    )
    assert_problem(
        await http.get("/api/v1/wallets/definitions/NOT..valid", headers=h), 404, "provider_not_found"
    )


@pytest.mark.parametrize("wallet_id", ["not-an-id", "6650c0ffee00000000000001", "x" * 300])
async def test_unknown_or_malformed_wallet_id_is_404(
    http: httpx.AsyncClient, stack: Stack, wallet_id: str
) -> None:
    assert_problem(
        await http.get(f"{WALLETS}/{wallet_id}", headers=stack.headers(user_id())), 404, "wallet_not_found"
    )


async def test_body_over_64_kib_is_413_with_or_without_content_length(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    h = {**stack.headers(user_id()), "content-type": "application/json"}
    big = b'{"wallet_provider_id":"demo-v1","custom_name":"' + b"x" * (70 * 1024) + b'"}'
    assert_problem(await http.post(WALLETS, content=big, headers=h), 413, "payload_too_large")

    async def chunks() -> Any:
        for i in range(0, len(big), 8192):
            yield big[i : i + 8192]

    assert_problem(await http.post(WALLETS, content=chunks(), headers=h), 413, "payload_too_large")


async def test_malformed_json_is_422(http: httpx.AsyncClient, stack: Stack) -> None:
    h = {**stack.headers(user_id()), "content-type": "application/json"}
    assert_problem(await http.post(WALLETS, content=b"{not json", headers=h), 422, "validation_error")
    # Bytes that are not even UTF-8 (found by the stateful fuzz run): the same documented 422, not a 400.
    body = assert_problem(await http.post(WALLETS, content=b"\x0b\xfft@", headers=h), 422, "validation_error")
    assert body["errors"] == [{"loc": ["body"], "msg": "the body is not valid JSON", "type": "json_invalid"}]


async def test_operational_routes_need_no_token(http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    ready = await http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["nats"] == "ok"
    spec = (await http.get("/openapi.json")).json()
    assert "Problem" in spec["components"]["schemas"]
    create_op = spec["paths"]["/api/v1/user-wallets"]["post"]
    assert create_op["requestBody"]["content"]["application/json"]["schema"]
    assert spec["components"]["schemas"]["UserWalletCreate"]["examples"]
    assert "bearer" in str(spec["components"]["securitySchemes"]).lower()
    # Every operation that takes a body documents the 413 its size limit answers (found by the fuzzer).
    with_body = [
        (path, method)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if isinstance(op, dict) and "requestBody" in op
    ]
    assert with_body
    assert [(p, m) for p, m in with_body if "413" not in spec["paths"][p][m]["responses"]] == []


async def test_docs_are_served_with_their_own_assets_no_cdn(http: httpx.AsyncClient) -> None:
    page = await http.get("/docs")
    assert page.status_code == 200
    assert "cdn.jsdelivr" not in page.text
    scripts = re.findall(r'src="([^"]+\.js)"', page.text)
    assert scripts
    for src in scripts:
        asset = await http.get(src)
        assert asset.status_code == 200, src
        assert len(asset.content) > 10_000
    redoc = await http.get("/redoc")
    assert redoc.status_code == 200
    assert "cdn.jsdelivr" not in redoc.text


async def test_put_and_delete_retried_with_the_same_idempotency_key_answer_without_reapplying(
    http: httpx.AsyncClient, stack: Stack, stack_db: AsyncDatabase[Document]
) -> None:
    user = user_id()
    wallet = await create(http, stack, user, demo_wallet_body("Before"))
    url = f"{WALLETS}/{wallet['id']}"
    put_key = {**stack.headers(user), "Idempotency-Key": f"put-{uuid.uuid4().hex}"}
    first = await http.put(url, json={"custom_name": "After"}, headers=put_key)
    await http.put(
        url, json={"custom_name": "Later"}, headers=stack.headers(user)
    )  # another change in between
    again = await http.put(url, json={"custom_name": "After"}, headers=put_key)
    assert first.status_code == again.status_code == 200
    assert again.json()["custom_name"] == "Later"  # not re-applied over the later change
    raw = await stack_db["user_wallets"].find_one({"_id": ObjectId(wallet["id"])})
    assert raw is not None
    assert raw["version"] == 3  # created, After, Later: the retry changed nothing

    delete_key = {**stack.headers(user), "Idempotency-Key": f"del-{uuid.uuid4().hex}"}
    assert (await http.delete(url, headers=delete_key)).status_code == 204
    assert (await http.delete(url, headers=delete_key)).status_code == 204
    assert_problem(await http.delete(url, headers=stack.headers(user)), 404, "wallet_not_found")


@pytest.mark.parametrize(
    "body",
    [
        demo_wallet_body(initial_balances={"USDT": "123456789012345678901234567890.123456789012345678"}),
        demo_wallet_body(risk_limits={"max_order_notional": "1" * 40}),
    ],
)
async def test_amount_too_large_to_store_exactly_is_422_not_500(
    http: httpx.AsyncClient, stack: Stack, body: dict[str, Any]
) -> None:
    assert_problem(
        await http.post(WALLETS, json=body, headers=stack.headers(user_id())), 422, "validation_error"
    )


async def test_absurdly_nested_json_is_a_client_error_not_a_500(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    nested = b"[" * 20_000 + b"]" * 20_000
    h = {**stack.headers(user_id()), "content-type": "application/json"}
    r = await http.post(WALLETS, content=nested, headers=h)
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["code"] == "validation_error"


async def test_no_log_line_holds_a_credential_value_or_ciphertext(
    http: httpx.AsyncClient, stack: Stack, stack_db: AsyncDatabase[Document]
) -> None:
    user = user_id()
    creds = binance_credentials()
    wallet = await create(http, stack, user, binance_wallet_body(name="logged", credentials=creds))
    wrong = await http.put(
        f"{WALLETS}/{wallet['id']}",
        json={"credentials": {"api_key": creds["api_key"]}},
        headers=stack.headers(user),
    )
    assert_problem(wrong, 422, "invalid_credentials")
    assert creds["api_key"] not in wrong.text
    raw = await stack_db["user_wallets"].find_one({"_id": ObjectId(wallet["id"])})
    assert raw is not None
    logs = stack.logs()
    assert logs  # the services do log
    for needle in [*creds.values(), *raw["credentials"].values()]:
        assert needle not in logs


async def test_metrics_count_requests_by_route_template_without_a_token(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    user = user_id()
    wallet = await create(http, stack, user, demo_wallet_body("metered"))
    await http.get(f"{WALLETS}/{wallet['id']}", headers=stack.headers(user))
    r = await http.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert (
        'moniqo_http_requests_total{method="GET",route="/api/v1/user-wallets/{wallet_id}",status="200"}'
        in text
    )
    assert "moniqo_http_request_duration_seconds_bucket" in text
    assert wallet["id"] not in text  # ids never become label values
