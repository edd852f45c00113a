"""The bench's CPU accounting (/proc): CPU time, a process found by an argument, µs per request."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from bench.cpu import cpu_seconds, per_request_us, pid_of, snapshot


def test_cpu_time_of_a_process_grows_with_the_work_it_does() -> None:
    before = cpu_seconds(os.getpid())
    assert before is not None
    burn_until = time.process_time() + 0.3
    while time.process_time() < burn_until:
        pass

    after = cpu_seconds(os.getpid())

    assert after is not None
    assert after - before >= 0.2


def test_a_process_is_found_by_its_executable_and_a_part_of_an_argument_and_gone_once_it_exits() -> None:
    marker = f"bench-cpu-{uuid.uuid4().hex}"
    child = subprocess.Popen([sys.executable, "-c", "import sys, time; time.sleep(60)", marker])
    executable = Path(sys.executable).name
    try:
        # Until the child has exec'd, its command line is still this process's: poll up to a deadline.
        deadline = time.monotonic() + 20
        while pid_of(executable, marker[:-4]) is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pid_of(executable, marker[:-4]) == child.pid
        assert pid_of(executable, f"{marker}-not-this-one") is None
    finally:
        child.kill()
        child.wait()
    assert cpu_seconds(child.pid) is None
    assert snapshot({"child": child.pid, "never": None}) == {}


def test_cpu_per_request_is_each_process_share_over_the_requests_and_their_sum() -> None:
    before = {"gateway": 10.0, "demo-exchange": 4.0, "gone": 1.0}
    after = {"gateway": 10.4, "demo-exchange": 4.1}

    assert per_request_us(before, after, 1000) == {"gateway": 400.0, "demo-exchange": 100.0, "total": 500.0}
    assert per_request_us(before, after, 0) == {}
