"""``/asyncapi``: the AsyncAPI document of every NATS command and event, rendered with self-hosted assets.

The document is generated from the services' brokers (``moniqo docs asyncapi --write``) and committed;
the gateway ships a copy (it does not import the services). The page uses the AsyncAPI React
component's standalone bundle, vendored in ``static/asyncapi`` (Apache-2.0, see NOTICE there): no CDN.
"""

from __future__ import annotations

import html
import json
from functools import cache
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

HERE = Path(__file__).parent
BUNDLED_DOCUMENT = HERE / "asyncapi.json"
ASSETS = HERE / "static" / "asyncapi"
ASSETS_URL = "/static-asyncapi"

# What the page shows (the React component's config).
_CONFIG = {
    "show": {
        "sidebar": True,
        "info": True,
        "servers": True,
        "operations": True,
        "messages": True,
        "schemas": True,
        "errors": True,
    },
    "expand": {"messageExamples": False},
    "sidebar": {"showServers": "byDefault", "showOperations": "byDefault"},
}

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} - AsyncAPI</title>
  <link rel="icon" type="image/png" href="{root}/static-offline-docs/favicon.png">
  <link rel="stylesheet" href="{root}{assets}/default.min.css">
  <style>html {{ font-family: ui-sans-serif, system-ui, sans-serif; line-height: 1.5; }}</style>
</head>
<body>
  <div id="asyncapi"></div>
  <script src="{root}{assets}/index.js"></script>
  <script>
    fetch({document_url})
      .then((response) => response.text())
      .then((schema) => AsyncApiStandalone.render(
        {{ schema: schema, config: {config} }}, document.getElementById("asyncapi")));
  </script>
</body>
</html>
"""


@cache
def _read(path: Path) -> bytes:
    return path.read_bytes()


def install(app: FastAPI, document: Path = BUNDLED_DOCUMENT) -> None:
    """Serve ``/asyncapi`` (HTML), ``/asyncapi.json`` and the page's assets; no token needed."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="static-asyncapi")

    @app.get("/asyncapi.json", include_in_schema=False)
    async def asyncapi_json() -> Response:
        return Response(_read(document), media_type="application/json")

    @app.get("/asyncapi", include_in_schema=False)
    async def asyncapi_page(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        title = json.loads(_read(document))["info"]["title"]
        return HTMLResponse(
            _PAGE.format(
                title=html.escape(title),
                root=root,
                assets=ASSETS_URL,
                document_url=json.dumps(f"{root}/asyncapi.json"),
                config=json.dumps(_CONFIG),
            )
        )
