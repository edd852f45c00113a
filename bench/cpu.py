"""CPU time of processes from /proc (Linux): what a request costs each process on its path, in µs.

Throughput ratios on 2 cores depend on the machine (how the load tool, the servers and the broker share
the cores); CPU per request does much less, and says which process to work on."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a live process, or None (gone, or not Linux)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": state is fields[0]
    return (int(fields[11]) + int(fields[12])) / _TICKS


def pid_of(executable: str, part: str) -> int | None:
    """The first process running ``executable`` with ``part`` in one of its arguments."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if argv and Path(argv[0]).name == executable and any(part in a for a in argv[1:]):
            return int(entry.name)
    return None


def snapshot(pids: Mapping[str, int | None]) -> dict[str, float]:
    return {
        name: cpu for name, pid in pids.items() if pid is not None and (cpu := cpu_seconds(pid)) is not None
    }


def per_request_us(before: dict[str, float], after: dict[str, float], requests: int) -> dict[str, float]:
    """CPU µs per request for each process seen at both ends, and their sum as ``total``."""
    if requests <= 0:
        return {}
    per = {
        name: round((after[name] - cpu) / requests * 1e6, 1) for name, cpu in before.items() if name in after
    }
    per["total"] = round(sum(per.values()), 1)
    return per
