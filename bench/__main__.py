"""``python -m bench [--quick] [--only P1,P2,...]``: start the platform, run the scenarios, print a table and
write ``bench/results/latest.json``. See bench/README.md for the method."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform as pyplatform
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvloop

from bench import p1_bus, p2_orders, p3_triggers, p4_sweep, p5_events
from bench.context import Context, Sizes, connect_nats
from bench.load import wrk_path
from bench.p2_orders import quiesce
from bench.stack import Platform, infrastructure, start_platform
from servicekit import logs

ALL = ("P1", "P2", "P3", "P4", "P5", "P6")
RESULTS = Path(__file__).parent / "results"
# The order path is measured, not the per-user rate limit (50/s by default): lift it for the bench.
STACK_ENV = {"ORDER_RATE_PER_SECOND": "1000000", "ORDER_BURST": "1000000"}


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_gib, 1),
        "kernel": pyplatform.release(),
        "python": pyplatform.python_version(),
        "commit": commit,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def rss_all(platform: Platform) -> dict[str, float | None]:
    return {name: svc.rss() for name, svc in platform.services.items()}


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def _ops(ops: dict[str, float]) -> str:
    return f"{sum(ops.values()):.1f} (" + ", ".join(f"{k} {v:g}" for k, v in ops.items()) + ")"


def _pair(a: Any, b: Any) -> str:
    return f"{_fmt(a)} / {_fmt(b)}"


def _sweep(run: dict[str, Any], wallets: int) -> str:
    if run.get("completed", True):
        return _fmt(run["sweep_s"])
    return f"not finished: {run['wallets_synced']}/{wallets} synced in {_fmt(run['timeout_s'])} s"


def table(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(scenario, figure, value, goal) rows; * = the figure includes the store. A scenario that failed is
    one row saying why."""
    rows: list[tuple[str, str, str, str]] = [
        (key, "FAILED", r["error"], "") for key, r in results.items() if "error" in r
    ]
    results = {key: r for key, r in results.items() if "error" not in r}
    if p1 := results.get("P1"):
        ratio = f"{_pair(p1['gateway_rps_c32'], p1['bare_rps_c32'])} = {p1['throughput_ratio_c32']}x"
        gateway = _pair(p1["gateway_p50_ms_c1"], p1["gateway_p99_ms_c1"])
        bare = _pair(p1["bare_p50_ms_c1"], p1["bare_p99_ms_c1"])
        rows += [
            ("P1", "gateway / bare FastAPI req/s, 32 conns", ratio, ">= 0.6x"),
            ("P1", "gateway p50 / p99, 1 conn (ms)", gateway, "p50 <= 0.6"),
            ("P1", "bare p50 / p99, 1 conn (ms)", bare, ""),
        ]
        if cpu := p1.get("cpu_us_per_request"):
            path, alone = cpu["gateway_c32"], cpu["bare_c32"]
            parts = ", ".join(f"{k} {v:g}" for k, v in path.items() if k != "total")
            cells = (
                f"{path['total']:g} ({parts}) / {alone['total']:g} (bare {alone.get('bare', 0):g}, load tool "
            )
            cells += f"{alone.get('load tool', 0):g})"
            rows.append(("P1", "CPU µs per request, 32 conns: gateway path / bare", cells, ""))
    if p2 := results.get("P2"):
        rt = p2["round_trips"]
        conns = p2["runs"]["orders_c32"]["connections"]
        ratio = f"{_pair(p2['orders_rps'], p2['raw_fou_rps'])} = {p2['ratio']}x"
        lat = f"{_pair(p2['p50_ms'], p2['p99_ms'])} | {_pair(p2['p50_ms_c1'], p2['p99_ms_c1'])}"
        trips = f"{rt['total_before_reply']} (with client_order_id: "
        trips += f"{rt['total_before_reply_with_client_order_id']}); after: {rt['total_after_reply']}"
        rows += [
            ("P2*", f"market orders / raw guarded fou per s, {conns} conns", ratio, ">= 0.7x"),
            ("P2*", f"order p50 / p99 (ms), {conns} conns | 1 conn", lat, ""),
            ("P2*", "store round trips per order before reply", trips, "<= 2"),
            ("P2*", "server ops per order, all services", _ops(p2.get("server_ops_per_order", {})), ""),
        ]
    if p3 := results.get("P3"):
        for size in p3["sizes"]:
            t = size["ticks"]
            cells = ", ".join(
                f"{k}: {t[k]['ms']} ms {t[k]['store_commands']} cmds" for k in ("0", "1", "100")
            )
            rows.append(
                ("P3*", f"tick triggering 0/1/100 of {size['resting']} resting", cells, "~ triggered")
            )
    if p4 := results.get("P4"):
        one, three = p4["one_instance"], p4["three_instances"]
        dup = f"{_sweep(three, p4['wallets'])}, {three['duplicates']}"
        rows += [
            ("P4*", f"sweep of {p4['wallets']} wallets, 1 instance (s)", _sweep(one, p4["wallets"]), "<= 5"),
            ("P4*", "3 instances: sweep (s), duplicates", dup, "0 dup"),
        ]
        if ops := one.get("store_ops_per_wallet"):
            rows.append(
                ("P4*", "store ops per synced wallet, all services (1 instance)", _fmt(ops["total"]), "")
            )
    if p5 := results.get("P5"):
        lat = _pair(p5["p50_ms"], p5["p99_ms"])
        rows.append(("P5*", "order reply -> evt.trade.executed p50 / p99 (ms)", lat, "p50 <= 10"))
    if p6 := results.get("P6"):
        for name, s in p6["services"].items():
            cells = f"{_pair(s.get('rss_idle_mib'), s.get('rss_p2_peak_mib'))}, {_fmt(s.get('cold_start_s'))}"
            rows.append(("P6", f"{name}: RSS idle / P2 (MiB), cold start (s)", cells, "<= 150 MiB"))
    return rows


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in [("", "figure", "measured", "goal"), *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


def footprint(
    idle: dict[str, float | None], cold: dict[str, float | None], peaks: dict[str, float]
) -> dict[str, Any]:
    return {
        "what": "RSS (VmRSS) of each service process; cold start = spawn → its 'ready' log line",
        "cold_start_note": "all four services start at once on the same cores",
        "services": {
            n: {
                "rss_idle_mib": _round(idle.get(n)),
                "rss_p2_peak_mib": peaks.get(n),
                "cold_start_s": _round(cold.get(n), 2),
            }
            for n in idle
        },
        "goal_mib": 150,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    only = [s.strip().upper() for s in args.only.split(",")] if args.only else list(ALL)
    notes: list[str] = []
    sizes = Sizes.of(args.quick)
    if args.p4_wallets is not None:
        sizes = replace(sizes, p4_wallets=args.p4_wallets)
        notes.append(f"P4 sized by --p4-wallets: {args.p4_wallets} wallets")
    tool = "wrk" if wrk_path() else "python"
    if tool == "python":
        notes.append(
            "wrk not found: HTTP load came from the in-process asyncio+httpx generator, which saturates "
            "long before the servers do (it shares their CPU): its P1/P2 ratios say little, use wrk"
        )
    if args.quick:
        notes.append(f"--quick: scaled down to {sizes}")
    out: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "mode": "quick" if args.quick else "full",
        "sizes": sizes.__dict__,
        "load_tool": tool,
        "notes": notes,
    }
    workdir = Path(tempfile.mkdtemp(prefix="moniqo-bench-"))
    print(f"» bench: infrastructure (logs in {workdir})", flush=True)
    with infrastructure(workdir) as infra:
        out["infrastructure"] = {"nats": infra.nats.source, "mongo": infra.mongo.source}
        if infra.mongo.source == "embedded":
            notes.append(
                "store = mongoeco (a MongoDB wire server, in-memory engine), NOT MongoDB: "
                "every figure marked * includes it"
            )
        began = time.perf_counter()
        platform = start_platform(infra, workdir / "logs", STACK_ENV)
        out["platform_start_s"] = round(time.perf_counter() - began, 2)
        nc = await connect_nats(infra.nats.url)
        ctx = Context(platform, sizes, nc, notes=notes)
        try:
            await asyncio.sleep(2)  # settle: the first sweep, consumers bound
            idle = rss_all(platform)
            cold = {n: s.ready_after for n, s in platform.services.items()}
            phases: dict[str, float] = {}
            out["phase_s"] = phases
            scenarios: list[tuple[str, Callable[[], Awaitable[dict[str, Any]]]]] = [
                ("P1", lambda: p1_bus.run(ctx)),
                ("P5", lambda: p5_events.run(ctx)),
                ("P2", lambda: p2_orders.run(ctx, lambda: rss_all(platform))),
                ("P3", lambda: p3_triggers.run(ctx)),
                ("P4", lambda: p4_sweep.run(ctx)),  # last: its 1,000 wallets slow the store for the rest
            ]
            for key, scenario in scenarios:
                if key in only:
                    print(f"» bench: {key}", flush=True)
                    phases[f"{key}_drain"] = await quiesce(infra.mongo.url)
                    began = time.perf_counter()
                    try:
                        ctx.results[key] = await scenario()
                    except Exception as exc:  # recorded: the other scenarios' figures are still worth having
                        ctx.results[key] = {"error": f"{type(exc).__name__}: {exc}"}
                        print(f"» bench: {key} failed: {ctx.results[key]['error']}", flush=True)
                    phases[key] = round(time.perf_counter() - began, 1)
            if "P6" in only:
                ctx.results["P6"] = footprint(idle, cold, ctx.results.get("P2", {}).get("rss_peak_mib", {}))
        finally:
            await nc.close()
            platform.stop_all()
    out["results"] = ctx.results
    out["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes and 2 s load runs (a smoke test)")
    parser.add_argument("--only", default="", help="comma-separated scenarios, e.g. P1,P3")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="default: results/latest.json (results/quick.json with --quick)",
    )
    parser.add_argument("--p4-wallets", type=int, default=None, help="P4 size (default 1000, --quick 30)")
    args = parser.parse_args()
    if args.out is None:
        args.out = RESULTS / ("quick.json" if args.quick else "latest.json")
    logs.configure("WARNING", "console", "bench")  # the in-process service code logs fills at INFO
    report = uvloop.run(run(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print()
    m = report["machine"]
    print(f"machine: {m['cpu']} ({m['cores']} cores), load tool: {report['load_tool']}")
    for note in report["notes"]:
        print(f"note: {note}")
    rows = table(report["results"])
    if rows:
        print_table(rows)
    for scenario in ("P1", "P2"):
        for name, r in report["results"].get(scenario, {}).get("runs", {}).items():
            print(f"{scenario} {name}: {r['command']}")
    print(f"\nwritten: {args.out}")
    sys.stdout.flush()
    if any("error" in r for r in report["results"].values()):
        sys.exit(1)  # after the table and the file: what did run is kept


if __name__ == "__main__":
    main()
