"""HTTP load: wrk (the well-known C load tool) when installed, else an in-process asyncio + httpx generator.

Both are closed-loop: ``connections`` clients each send their next request when the previous reply
arrives. Latencies are reported in milliseconds.
"""

from __future__ import annotations

import asyncio
import json
import shlex
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

WRK_DONE = """
done = function(summary, latency, requests)
  io.write(string.format(
    "BENCH_JSON {\\"requests\\": %d, \\"duration_us\\": %d, \\"status_errors\\": %d, "
    .. "\\"socket_errors\\": %d, \\"p50_us\\": %d, \\"p90_us\\": %d, \\"p99_us\\": %d, \\"mean_us\\": %f}\\n",
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean))
end
"""


@dataclass(frozen=True)
class Target:
    """Requests to send: one per entry, taken round-robin (method, path, headers, body)."""

    base_url: str
    requests: list[tuple[str, str, dict[str, str], str | None]]


@dataclass(frozen=True)
class LoadResult:
    tool: str
    command: str
    connections: int
    duration_s: float
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    errors: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def wrk_path() -> str | None:
    return shutil.which("wrk")


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal for ASCII text


def _wrk_script(target: Target) -> str:
    entries = []
    for method, path, headers, body in target.requests:
        hdrs = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items())
        body_lua = _lua_string(body) if body is not None else "nil"
        entries.append(f"  wrk.format({_lua_string(method)}, {_lua_string(path)}, {{{hdrs}}}, {body_lua})")
    return (
        "local reqs = {\n"
        + ",\n".join(entries)
        + "\n}\nlocal i = 0\nrequest = function()\n  i = i + 1\n  return reqs[(i % #reqs) + 1]\nend\n"
        + WRK_DONE
    )


def run_wrk(target: Target, *, connections: int, duration: float, threads: int = 1) -> LoadResult:
    wrk = wrk_path()
    assert wrk is not None
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(_wrk_script(target))
        script = f.name
    # One wrk thread: on 2 cores a second one only steals CPU from the system under test.
    args = [
        wrk, f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--timeout", "10s", "-s", script,
        target.base_url + target.requests[0][1],
    ]  # fmt: skip
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=duration + 60, check=True).stdout
    finally:
        Path(script).unlink(missing_ok=True)
    line = next(x for x in out.splitlines() if x.startswith("BENCH_JSON "))
    data = json.loads(line.removeprefix("BENCH_JSON "))
    seconds = data["duration_us"] / 1e6
    shown = [*args[:-3], "<script: round-robin over the requests>", args[-1]]
    return LoadResult(
        tool="wrk",
        command=shlex.join(shown),
        connections=connections,
        duration_s=round(seconds, 2),
        requests=data["requests"],
        rps=round(data["requests"] / seconds, 1),
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        mean_ms=round(data["mean_us"] / 1000, 3),
        errors=data["status_errors"] + data["socket_errors"],
    )


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


async def _run_python(target: Target, connections: int, duration: float) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    counter = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=target.base_url, limits=limits, timeout=10) as client:
        stop_at = time.perf_counter() + duration

        async def worker() -> None:
            nonlocal errors, counter
            while time.perf_counter() < stop_at:
                method, path, headers, body = target.requests[counter % len(target.requests)]
                counter += 1
                started = time.perf_counter()
                try:
                    r = await client.request(method, path, headers=headers, content=body)
                    ok = r.status_code < 400
                except httpx.HTTPError:
                    ok = False
                latencies.append((time.perf_counter() - started) * 1000)
                errors += not ok

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    return LoadResult(
        tool="python",
        command=f"in-process asyncio+httpx closed loop, {connections} connections, {duration:g}s",
        connections=connections,
        duration_s=round(elapsed, 2),
        requests=len(latencies),
        rps=round(len(latencies) / elapsed, 1),
        p50_ms=round(percentile(latencies, 50), 3),
        p90_ms=round(percentile(latencies, 90), 3),
        p99_ms=round(percentile(latencies, 99), 3),
        mean_ms=round(sum(latencies) / max(1, len(latencies)), 3),
        errors=errors,
    )


def run_load(target: Target, *, connections: int, duration: float) -> LoadResult:
    if wrk_path() is not None:
        return run_wrk(target, connections=connections, duration=duration)
    return asyncio.run(_run_python(target, connections, duration))
