"""P1 bus path: ``GET /market/tickers/BTC-USDT`` (HTTP → gateway → NATS → demo-exchange → reply; no store)
against a bare FastAPI app answering the same JSON, in the same run, with the same load tool."""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.context import Context
from bench.cpu import per_request_us, pid_of, snapshot
from bench.load import LoadResult, Target, run_load
from devstack.process import ChildProcess

PATH = "/api/v1/market/tickers/BTC-USDT"


def _start_bare(body: str, log_dir: Path) -> tuple[ChildProcess, str]:
    port_file = log_dir / "bare.port"
    port_file.unlink(missing_ok=True)
    proc = ChildProcess(
        [sys.executable, "-m", "bench.bare", "--port-file", str(port_file), "--body", body],
        log_path=log_dir / "bare.log",
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = port_file.read_text().strip() if port_file.exists() else ""
        if text.isdigit():
            url = f"http://127.0.0.1:{text}"
            try:
                if httpx.get(url + PATH, timeout=1).status_code == 200:
                    return proc, url
            except httpx.TransportError:
                pass
        time.sleep(0.05)
    proc.stop()
    raise TimeoutError("the bare FastAPI app did not start")


async def run(ctx: Context) -> dict[str, Any]:
    await ctx.set_prices()
    headers = ctx.platform.headers("bench-p1")
    async with ctx.http() as http:
        r = await http.get(PATH, headers=headers)
        r.raise_for_status()
        body = r.text
    proc, bare_url = _start_bare(body, ctx.platform.log_dir)
    try:
        gateway = Target(ctx.platform.base_url, [("GET", PATH, headers, None)])
        bare = Target(bare_url, [("GET", PATH, {}, None)])
        d = ctx.sizes.duration
        runs: dict[str, LoadResult] = {}
        # Warm both (imports, first connections), then alternate so drifting load on the machine hits both.
        await asyncio.to_thread(run_load, gateway, connections=4, duration=1)
        await asyncio.to_thread(run_load, bare, connections=4, duration=1)
        path = _path_pids(ctx)
        cpu: dict[str, dict[str, float]] = {}
        for conns in (32, 1):
            for name, target, pids in (("gateway", gateway, path), ("bare", bare, {"bare": proc.pid})):
                key = f"{name}_c{conns}"
                before, children = snapshot(pids), _children_cpu()
                runs[key] = await asyncio.to_thread(run_load, target, connections=conns, duration=d)
                after = snapshot(pids) | {"load tool": _children_cpu() - children}
                cpu[key] = per_request_us(before | {"load tool": 0.0}, after, runs[key].requests)
    finally:
        proc.stop()
    g32, b32, g1, b1 = runs["gateway_c32"], runs["bare_c32"], runs["gateway_c1"], runs["bare_c1"]
    return {
        "what": "GET /api/v1/market/tickers/BTC-USDT via gateway→NATS→demo-exchange vs a bare FastAPI app",
        "store": "none (no store on this path)",
        "throughput_ratio_c32": round(g32.rps / b32.rps, 3),
        "goal_ratio": 0.6,
        "gateway_rps_c32": g32.rps,
        "bare_rps_c32": b32.rps,
        "gateway_p50_ms_c1": g1.p50_ms,
        "gateway_p99_ms_c1": g1.p99_ms,
        "bare_p50_ms_c1": b1.p50_ms,
        "bare_p99_ms_c1": b1.p99_ms,
        "goal_p50_ms_c1": 0.6,
        "body": json.loads(body),
        "runs": {k: v.as_dict() for k, v in runs.items()},
        "cpu_us_per_request": cpu,
        "cpu_note": "user+system CPU (/proc) over each run / its requests; 'load tool' = wrk (0 in-process)",
    }


def _path_pids(ctx: Context) -> dict[str, int | None]:
    """The processes a ticker request crosses: the gateway, demo-exchange and the embedded nats-server."""
    pids: dict[str, int | None] = {
        n: ctx.platform.services[n].process.pid for n in ("gateway", "demo-exchange")
    }
    if ctx.platform.infra.nats.source == "embedded":  # its store directory is in the bench's workdir
        pids["nats-server"] = pid_of("nats-server", str(ctx.platform.log_dir.parent))
    return pids


def _children_cpu() -> float:
    """CPU of this process's reaped children (wrk runs as one and is reaped when its run ends)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
