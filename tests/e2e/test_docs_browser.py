"""``/docs`` (Swagger UI) and ``/asyncapi`` render in a real headless Chromium from a running gateway,
with nothing but what the gateway serves (no CDN). Screenshots go to ``test-artifacts/docs-browser/``.

Chromium is Debian's ``chromium`` (``make test`` installs it when missing and running as root).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from contracts.subjects import EventType, Exchange, Registry
from devstack.process import ChildProcess
from gateway.asyncapi import BUNDLED_DOCUMENT

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "docs-browser"
CHROMIUM = shutil.which("chromium")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="Debian's chromium is not installed (`make test` installs it with apt-get when run as root; "
        "otherwise: apt-get install -y chromium)",
    ),
]


@dataclass
class Gateway:
    base_url: str
    log: Path


@pytest.fixture(scope="module")
def gateway(nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """Only the gateway: the docs need no other service (it needs NATS to start, nothing else)."""
    workdir = tmp_path_factory.mktemp("docs-gateway")
    port_file, log = workdir / "gateway.port", workdir / "gateway.log"
    env = {
        **os.environ,
        "NATS_URL": nats_url,
        "JWT_SECRET": os.urandom(32).hex(),
        "GATEWAY_PORT": "0",  # the gateway binds a free port itself and reports it
        "GATEWAY_PORT_FILE": str(port_file),
        "LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",
    }
    proc = ChildProcess([sys.executable, "-m", "gateway"], log_path=log, env=env)
    try:
        port = wait_until(
            lambda: int(text) if (text := read(port_file)).isdigit() else None,
            what="the gateway to bind",
            alive=proc.alive,
            log=log,
        )
        base_url = f"http://127.0.0.1:{port}"
        wait_until(lambda: healthy(base_url), what="the gateway to answer", alive=proc.alive, log=log)
        yield Gateway(base_url, log)
    finally:
        proc.stop()


def read(path: Path) -> str:
    return path.read_text().strip() if path.exists() else ""


def healthy(base_url: str) -> bool | None:
    try:
        return httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200 or None
    except httpx.TransportError:
        return None


def wait_until[T](
    probe: Callable[[], T | None],
    *,
    what: str,
    alive: Callable[[], bool],
    log: Path,
    timeout: float = 60.0,
) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value is not None:
            return value
        if not alive():
            raise RuntimeError(f"the gateway exited while waiting for {what}:\n{read(log)[-4000:]}")
        time.sleep(0.05)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}:\n{read(log)[-4000:]}")


def chromium(url: str, *action: str, budget_ms: int, timeout: float = 60.0) -> str:
    """One headless Chromium run with its own profile; ``budget_ms`` of virtual time lets scripts finish."""
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        done = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-default-apps",
                "--disable-extensions",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
                # Offline proof: every host but the loopback gateway fails to resolve (a CDN would break).
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                f"--user-data-dir={profile}",
                f"--virtual-time-budget={budget_ms}",
                "--window-size=1400,1800",
                *action,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited {done.returncode} on {url}:\n{done.stderr[-3000:]}")
    return done.stdout


def rendered_dom(url: str, ready: Callable[[str], bool], *, deadline_s: float = 80.0) -> tuple[str, int]:
    """The DOM once ``ready`` holds, and the virtual-time budget that took: retried with a longer budget
    until the deadline."""
    deadline = time.monotonic() + deadline_s
    budget, dom = 5_000, ""
    while time.monotonic() < deadline:
        dom = chromium(url, "--dump-dom", budget_ms=budget)
        if ready(dom):
            return dom, budget
        budget = min(budget * 2, 60_000)
    raise AssertionError(f"{url} did not render within {deadline_s}s; last DOM:\n{dom[:3000]}")


def screenshot(url: str, name: str, budget_ms: int) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    path.unlink(missing_ok=True)
    chromium(url, f"--screenshot={path}", budget_ms=budget_ms)
    assert path.exists(), f"chromium wrote no screenshot of {url}"
    assert path.stat().st_size > 10_000, f"{path} looks blank"
    print(f"\nscreenshot of {url}: {path}")
    return path


def test_swagger_ui_renders_every_operation_offline(gateway: Gateway) -> None:
    openapi = httpx.get(f"{gateway.base_url}/openapi.json", timeout=10).json()
    paths = list(openapi["paths"])
    assert "/api/v1/user-wallets" in paths

    dom, budget = rendered_dom(f"{gateway.base_url}/docs", lambda d: 'class="opblock ' in d)

    assert dom.count('class="opblock ') >= sum(len(ops) for ops in openapi["paths"].values())
    for path in paths:
        assert f'data-path="{path}"' in dom, f"Swagger UI lists no operation for {path}"
    assert "swagger-ui" in dom
    screenshot(f"{gateway.base_url}/docs", "swagger-ui.png", budget)


def test_asyncapi_page_renders_every_channel_offline(gateway: Gateway) -> None:
    document = json.loads(BUNDLED_DOCUMENT.read_text())
    served = httpx.get(f"{gateway.base_url}/asyncapi.json", timeout=10).json()
    assert served == document

    # An invalid document renders nothing: the channels appear only once the renderer has parsed it.
    dom, budget = rendered_dom(f"{gateway.base_url}/asyncapi", lambda d: "svc.exchange.orders.place" in d)

    for subject in (*Registry.all(), *Exchange.all()):
        assert subject in dom, f"{subject} is not listed on /asyncapi"
    for event_type in EventType:
        assert f"evt.{event_type.value}.{{wallet_id}}" in dom, f"event {event_type} is not listed"
    assert "market.ticks.{pair}" in dom
    assert document["info"]["title"] in dom
    screenshot(f"{gateway.base_url}/asyncapi", "asyncapi.png", budget)
