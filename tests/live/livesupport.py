"""Helpers of the live tests: start ``mockviking serve`` as a subprocess, stop it, read it.

Every wait is bounded: a server that does not print its URL fails the test instead of hanging
it, and one that ignores a signal is killed after a timeout.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEFAULT_FIXTURES = REPO / "fixtures" / "default.yaml"
DEV_FIXTURES = REPO / "fixtures" / "dev.yaml"

ROOT_KEY = "mockviking-root-key"
ALICE_KEY = "alice-secret-key-0001"
BOB_KEY = "bob-secret-key-0002"
CAROL_KEY = "carol-secret-key-0003"

STARTUP_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


def hermetic_env() -> dict[str, str]:
    """The environment without OPENVIKING_* variables, and with no ovcli.conf to read."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENVIKING_")}
    env["OPENVIKING_CLI_CONFIG_FILE"] = "/nonexistent"
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class ServerProcess:
    """A running ``mockviking serve`` and what it printed."""

    proc: subprocess.Popen[str]
    first_line: str
    url: str
    _stdout: queue.Queue[str | None] = field(repr=False)
    stderr_file: t.IO[str] = field(repr=False)

    def rest_of_stdout(self, timeout: float = STOP_TIMEOUT) -> str:
        """Lines printed after the first one, until the stream closes (bounded)."""
        lines: list[str] = []
        while True:
            try:
                line = self._stdout.get(timeout=timeout)
            except queue.Empty:
                break
            if line is None:
                break
            lines.append(line)
        return "".join(lines)

    def stop(
        self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT, attempts: int = 1,
    ) -> int:
        """Send ``sig`` up to ``attempts`` times, waiting ``timeout`` after each; then kill.

        Returns the exit code (negative when a signal, or the last-resort kill, ended it).
        """
        for _ in range(attempts):
            if self.proc.poll() is not None:
                break
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                continue
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=STOP_TIMEOUT)
        return t.cast(int, self.proc.returncode)

    def stderr_text(self) -> str:
        """What the server wrote to stderr so far."""
        self.stderr_file.seek(0)
        return self.stderr_file.read()


def _pump(stream: t.IO[str], sink: queue.Queue[str | None]) -> None:
    try:
        for line in iter(stream.readline, ""):
            sink.put(line)
    finally:
        sink.put(None)


def start_server(
    *args: str, module: bool = True, timeout: float = STARTUP_TIMEOUT,
) -> ServerProcess:
    """Start ``mockviking serve --port 0 ARGS`` and wait (bounded) for its first stdout line."""
    if module:
        cmd = [sys.executable, "-m", "mockviking", "serve", "--port", "0", *args]
    else:
        exe = Path(sys.executable).with_name("mockviking")
        cmd = [str(exe), "serve", "--port", "0", *args]
    # stderr goes to a file: a pipe nobody reads could fill up and stall the server.
    stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=hermetic_env(), stdout=subprocess.PIPE, stderr=stderr,
        text=True, encoding="utf-8",
    )
    assert proc.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
    try:
        first = lines.get(timeout=timeout)
    except queue.Empty:
        first = None
        problem = f"no first line within {timeout}s"
    else:
        problem = "stdout closed before the first line"
    if first is None:
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT)
        stderr.seek(0)
        err = stderr.read()
        stderr.close()
        pytest.fail(f"`{' '.join(cmd)}`: {problem} (exit {proc.returncode}); stderr:\n{err}")
    first = first.rstrip("\n")
    words = first.split()
    url = next((w for w in words if w.startswith("http://")), "")
    if not url:
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT)
        stderr.close()
        pytest.fail(f"first line has no URL: {first!r}")
    return ServerProcess(proc=proc, first_line=first, url=url, _stdout=lines, stderr_file=stderr)


@contextlib.contextmanager
def running_server(*args: str, module: bool = True) -> t.Iterator[ServerProcess]:
    server = start_server(*args, module=module)
    try:
        yield server
    finally:
        # A second signal if the first one is lost (see test_cli.py), then a kill.
        server.stop(timeout=2.0, attempts=2)
        server.stderr_file.close()




def run_cli(*args: str, timeout: float = 15.0) -> subprocess.CompletedProcess[str]:
    """``python -m mockviking ARGS`` run to completion (bounded), output captured."""
    return subprocess.run(
        [sys.executable, "-m", "mockviking", *args], cwd=REPO, env=hermetic_env(),
        capture_output=True, text=True, encoding="utf-8", timeout=timeout, check=False,
    )
