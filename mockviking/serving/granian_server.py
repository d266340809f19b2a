"""Serving an app on granian, the fastest WSGI server measured (``benchmarks/RESULTS.md``).

On a standard (GIL) CPython, granian runs the app in a worker process it starts, not in the
process that asks it to serve. So the app is built first, here, and the worker is forked
from this process and inherits it: nothing is built twice and nothing is pickled. What
``mockviking serve`` promises still holds:

- the URL line appears only once the port accepts connections, and ``--port 0`` gets a
  real port (picked here, as granian binds in the worker on Linux);
- SIGINT, SIGTERM (and SIGHUP, which granian would take as "reload") stop the worker after
  the requests in flight, and the work that needs the app's state (the contract reports)
  runs in the worker, which holds that state;
- a ``kill -9`` of ``mockviking serve`` takes the worker with it (Linux: the kernel's
  parent-death signal; elsewhere a watcher thread), so no orphan keeps the port.

POSIX only: there is no fork on Windows, where ``serve`` uses waitress.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
import typing as t

if t.TYPE_CHECKING:
    from flask import Flask

#: How long the URL line waits for the worker to accept connections.
_READY_TIMEOUT_S = 30.0
#: granian logs to stdout, whose first line must be the URL: its lines go to stderr.
_LOGGING: dict[str, t.Any] = {
    "formatters": {"generic": {"()": "logging.Formatter", "fmt": "granian: [%(levelname)s] %(message)s"}},
    "handlers": {
        "console": {"formatter": "generic", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
        "access": {"formatter": "generic", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
    },
}


def granian_available() -> bool:
    """Whether this platform and installation can serve on granian."""
    if sys.platform == "win32" or "fork" not in multiprocessing.get_all_start_methods():
        return False
    try:
        import granian  # noqa: F401
    except ImportError:
        return False
    return True


def serve_on_granian(
    app: Flask,
    host: str,
    port: int,
    *,
    threads: int,
    on_ready: t.Callable[[], None],
    on_stop: t.Callable[[], None],
) -> int:
    """Serve ``app`` on ``host:port`` (an address from :func:`listen_address`) until SIGINT,
    SIGTERM or SIGHUP; returns granian's exit code.

    ``on_ready`` runs here once the port accepts connections; ``on_stop`` runs in the
    worker once it has stopped serving.
    """
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server.mp import MPServer

    parent = os.getpid()

    def worker(*args: t.Any, **kwargs: t.Any) -> None:
        _die_with(parent)
        _insist_on_stop_signals()
        try:
            MPServer._spawn_wsgi_worker(*args, **kwargs)
        finally:
            on_stop()
            sys.stdout.flush()

    server = Granian(
        "mockviking", address=host, port=port, interface=Interfaces.WSGI, workers=1,
        blocking_threads=threads, log_level=LogLevels.warning, log_dictconfig=_LOGGING, log_access=False,
        # A worker that does not stop within this time after a signal is killed.
        workers_kill_timeout=10,
    )
    # granian reloads on SIGHUP: a new worker forked from this process, which holds the
    # state as it was at start-up. For a mock that would forget every write; stop instead.
    server.on_startup(lambda: signal.signal(signal.SIGHUP, server.signal_handler_interrupt))
    # The worker must inherit the app: fork, whatever the interpreter's default.
    multiprocessing.set_start_method("fork", force=True)
    announced = threading.Event()

    def announce_after_fork() -> None:  # no thread of ours may be running when it forks
        if not announced.is_set():
            announced.set()
            threading.Thread(target=_announce_when_ready, args=(host, port, on_ready), daemon=True).start()

    os.register_at_fork(after_in_parent=announce_after_fork)
    try:
        server.serve(spawn_target=worker, target_loader=lambda *args, **kwargs: app, wrap_loader=False)
    except SystemExit as exc:  # granian exits non-zero when its worker failed
        return exc.code if isinstance(exc.code, int) else 1
    return 0


def _announce_when_ready(host: str, port: int, on_ready: t.Callable[[], None]) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                on_ready()
                return
        except OSError:
            time.sleep(0.005)


def _insist_on_stop_signals() -> None:
    """Make granian's worker honour every SIGINT and SIGTERM.

    Its main thread waits on a lock with no timeout and its stop handler is a Python
    handler, which runs only in the main thread. A signal the kernel hands to one of the
    worker's other threads was seen to be lost: the worker kept serving until killed. The
    signal's number always reaches Python's wakeup file descriptor, whichever thread takes
    it, so a thread of ours reads it there and tells granian to stop, again every 0.2 s
    until the worker is gone.
    """
    import granian._signals

    install: t.Callable[[], t.Any] = granian._signals.set_sync_signals

    def set_sync_signals() -> t.Any:  # called by granian, in the worker's main thread
        stop = install()
        reader, writer = socket.socketpair()
        writer.setblocking(False)
        signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)

        def watch() -> None:
            with reader, writer:
                while True:
                    numbers = reader.recv(64)
                    if not numbers:  # the descriptor was closed: nothing more will come
                        return
                    if signal.SIGINT in numbers or signal.SIGTERM in numbers:
                        break
                while True:
                    stop.set()
                    time.sleep(0.2)

        threading.Thread(target=watch, name="mockviking-stop", daemon=True).start()
        return stop

    granian._signals.set_sync_signals = set_sync_signals  # this (forked) worker process only


def _die_with(parent: int) -> None:
    """Make this (worker) process end when ``parent`` does, even by ``kill -9``."""
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the line above
            os._exit(1)
        return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, name="mockviking-parent-watch", daemon=True).start()
