"""A child process that is stopped politely, then firmly."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path


class ChildProcess:
    def __init__(self, args: list[str], *, log_path: Path | None = None, env: dict[str, str] | None = None):
        self.args = args
        self._log = log_path.open("ab") if log_path else None
        self.popen = subprocess.Popen(
            args,
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT if self._log else subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.alive():
            self.popen.terminate()
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout)
        if self._log:
            self._log.close()

    def kill(self) -> None:
        if self.alive():
            self.popen.kill()
            self.popen.wait(10)


def wait_for[T](probe: Callable[[], T | None], *, timeout: float, what: str, child: ChildProcess) -> T:
    """Poll ``probe`` until it returns a value; fail early and clearly if the child exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value is not None:
            return value
        if not child.alive():
            raise RuntimeError(f"{what} exited with code {child.popen.returncode}: {' '.join(child.args)}")
        time.sleep(0.02)
    child.stop()
    raise TimeoutError(f"{what} did not become ready within {timeout:.0f}s")
