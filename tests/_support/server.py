"""``mockviking serve`` as a child process: start it on a free port, read its URL, stop it.

``serve --port 0`` binds a free port and prints ``mockviking <version> serving <url> (<mode>
mode)`` as its first line. Every wait is bounded: a server that does not print its URL fails
the test instead of hanging it, and one that ignores a signal is killed after a timeout.
"""

from __future__ import annotations

import contextlib
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

from tests._support.paths import REPO
from tests._support.sdk import hermetic_env

#: Seconds to wait for the first line: generous, the machine may be busy with other tests.
STARTUP_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0


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
    """Start ``mockviking serve --port 0 ARGS`` and wait (bounded) for its first stdout line.

    ``module=False`` runs the ``mockviking`` console script instead of ``python -m mockviking``.
    The caller stops it (:meth:`ServerProcess.stop`) and closes ``stderr_file``; or use
    :func:`running_server`.
    """
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
        _give_up(proc, stderr, f"`{' '.join(cmd)}`: {problem}")
    first = first.rstrip("\n")
    words = first.split()
    url = next((w for w in words if w.startswith("http://")), "")
    if not url:
        _give_up(proc, stderr, f"`{' '.join(cmd)}`: first line has no URL: {first!r}")
    return ServerProcess(proc=proc, first_line=first, url=url, _stdout=lines, stderr_file=stderr)


@contextlib.contextmanager
def running_server(*args: str, module: bool = True) -> t.Iterator[ServerProcess]:
    """:func:`start_server`, stopped on exit: SIGTERM, a second one if the first is lost (see
    ``tests/live/test_cli.py``), then a kill."""
    server = start_server(*args, module=module)
    try:
        yield server
    finally:
        server.stop(timeout=2.0, attempts=2)
        server.stderr_file.close()


def run_cli(*args: str, timeout: float = 15.0) -> subprocess.CompletedProcess[str]:
    """``python -m mockviking ARGS`` run to completion (bounded), output captured."""
    return subprocess.run(
        [sys.executable, "-m", "mockviking", *args], cwd=REPO, env=hermetic_env(),
        capture_output=True, text=True, encoding="utf-8", timeout=timeout, check=False,
    )


def _give_up(proc: subprocess.Popen[str], stderr: t.IO[str], problem: str) -> t.NoReturn:
    """Kill a server that did not start as expected and fail the test with what it printed."""
    proc.kill()
    proc.wait(timeout=STOP_TIMEOUT)
    stderr.seek(0)
    err = stderr.read()
    stderr.close()
    pytest.fail(f"{problem} (exit {proc.returncode}); stderr:\n{err}")
