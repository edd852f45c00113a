"""``/asyncapi`` and ``/asyncapi.json`` are served by the gateway with its own assets, without a token."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from gateway.app import create_app
from gateway.asyncapi import BUNDLED_DOCUMENT
from gateway.settings import GatewaySettings


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # No lifespan: these pages need no NATS.
    app = create_app(GatewaySettings(jwt_secret=SecretStr("k9Qz3xV7pL2mN8rT5wY1bC4dF6gH0jA-")))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://gw") as http:
        yield http


async def test_asyncapi_json_is_the_committed_document_without_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/asyncapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == BUNDLED_DOCUMENT.read_bytes()


async def test_asyncapi_page_loads_only_assets_the_gateway_serves(client: httpx.AsyncClient) -> None:
    page = await client.get("/asyncapi")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "://" not in page.text  # no CDN, no external URL of any kind
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert "/static-asyncapi/index.js" in assets
    assert "/static-asyncapi/default.min.css" in assets
    for url in assets:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 1000, url


async def test_vendored_renderer_ships_with_its_licence_and_notice(client: httpx.AsyncClient) -> None:
    for name in ("LICENSE", "NOTICE"):
        response = await client.get(f"/static-asyncapi/{name}")
        assert response.status_code == 200
    assert "Apache License" in (await client.get("/static-asyncapi/LICENSE")).text


async def test_swagger_ui_page_loads_only_assets_the_gateway_serves(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    scripts = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert scripts
    assert not [u for u in scripts if "://" in u]
    for url in scripts:
        assert (await client.get(url)).status_code == 200, url
