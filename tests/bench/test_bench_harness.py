"""`make bench` in its smallest form runs end to end and writes its report (no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_quick_trigger_bench_writes_a_report_with_store_command_counts(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "P3,P6", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    report = json.loads(out.read_text())
    (size,) = report["results"]["P3"]["sizes"]
    ticks = size["ticks"]
    assert [ticks[k]["fills"] for k in ("0", "1")] == [0, 1]
    assert ticks["100"]["fills"] > 1
    # A tick that triggers nothing reads the index and stores the quote; each fill adds a fixed few.
    assert ticks["0"]["store_commands"] < ticks["1"]["store_commands"] < ticks["100"]["store_commands"]
    services = report["results"]["P6"]["services"]
    assert set(services) == {"wallet-registry", "demo-exchange", "balance-sync", "gateway"}
    assert all(s["rss_idle_mib"] and s["cold_start_s"] for s in services.values())
    assert "P3" in run.stdout  # the table was printed
