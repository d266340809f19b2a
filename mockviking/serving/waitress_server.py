"""Serving an app over HTTP on waitress, in the foreground (CLI) or on a background thread.

waitress is a production WSGI server, pure Python, and binds port 0 then reports the real
port, so no port is ever guessed. It serves inside the calling process, which is what the
pytest plugin needs, and ``mockviking serve --server waitress`` (the default on Windows);
``serve`` otherwise runs on granian (``granian_serving.py``). Werkzeug's development server
is never used.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import signal
import threading
import types
import typing as t

if t.TYPE_CHECKING:
    from flask import Flask


# waitress warns "Task queue depth is N" whenever every thread is busy: under a load test that
# is thousands of lines of noise, and not a problem of the mock's.
logging.getLogger("waitress.queue").setLevel(logging.ERROR)


#: Collect the middle generation after every 3 young collections (Python's default is 10).
MIDDLE_GENERATION_EVERY = 3


def tune_interpreter() -> None:
    """Garbage-collector settings for a process that serves mockviking and nothing else.

    mockviking keeps everything it is sent, and each collection walks every object of its
    generations: with thousands of messages stored a second, the pauses of Python's default
    settings showed up as latency spikes (the middle generation took 1.5-2 ms every ~1,500
    requests, a full collection 20-40 ms). So what start-up built, and whatever survives a
    collection of the middle generation, is frozen: later collections walk only what is
    new, and the oldest generation stays empty. The middle generation is collected more
    often, in smaller steps (0.4 ms). The stored state holds no reference cycles
    (``tests/unit/test_tuning.py`` checks), so frozen state never becomes cyclic garbage;
    what a request in flight holds at a freeze may (measured: 38 objects in 60,000 mixed
    requests, 1,465 in 40,000 failing ones). Used by ``mockviking serve``, never inside a
    test process, whose interpreter belongs to its user.
    """
    gc.freeze()
    young, _, old = gc.get_threshold()
    gc.set_threshold(young, MIDDLE_GENERATION_EVERY, old)
    if _freeze_survivors not in gc.callbacks:
        gc.callbacks.append(_freeze_survivors)


def _freeze_survivors(phase: str, info: dict[str, int]) -> None:
    if phase == "stop" and info.get("generation", 0) >= 1:
        gc.freeze()


def http_url(host: str, port: int) -> str:
    """The base URL of a server on ``host:port``, e.g. ``http://127.0.0.1:1933`` (IPv6 in brackets)."""
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


class ServerError(Exception):
    """The server was used out of order (started twice, stopped before starting)."""


class MockVikingServer:
    """A mockviking app listening on ``host:port``; ``port=0`` picks a free port."""

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 0, *, threads: int = 8) -> None:
        self.app = app
        from waitress.server import create_server  # here: `serve` on granian never needs it

        self._server: t.Any = create_server(
            app, host=host, port=port, threads=threads, ident="mockviking",
            clear_untrusted_proxy_headers=True, channel_timeout=30,
        )
        self.host: str = str(self._server.effective_host)
        self.port: int = int(self._server.effective_port)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:1933``."""
        return http_url(self.host, self.port)

    def serve_forever(self, on_ready: t.Callable[[], None] | None = None) -> None:
        """Serve until SIGINT or SIGTERM, then close cleanly.

        The server runs on its own thread while this one only waits for a signal: a signal
        handler that raised inside waitress's loop could be swallowed as a channel error.
        ``on_ready`` runs once the handlers are in place (the CLI prints the URL there), so a
        signal sent as soon as the URL is seen still stops the server cleanly.
        """
        stopping = threading.Event()

        def stop(signum: int, frame: types.FrameType | None) -> None:
            stopping.set()

        # Both signals are handled explicitly: a shell starts background jobs with SIGINT
        # ignored, and Python would then never raise KeyboardInterrupt.
        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.start()
            if on_ready is not None:
                on_ready()
            while not stopping.wait(0.2):
                pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if self._thread is not None:
                self.stop()

    def start(self) -> None:
        """Serve on a daemon thread."""
        if self._thread is not None:
            raise ServerError("the server is already running")
        self._thread = threading.Thread(target=self._run_quietly, name="mockviking-server", daemon=True)
        self._thread.start()

    def _run_quietly(self) -> None:
        # A stop that races with a closing client may end the loop with an OSError.
        with contextlib.suppress(OSError):
            self._server.run()

    def stop(self) -> None:
        """Stop the server started by :meth:`start`: finish requests in flight, then close."""
        if self._thread is None:
            raise ServerError("the server is not running")
        # Let the worker threads finish what they are doing while the loop still runs...
        self._server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)

        def close_everything() -> None:
            # ...then close every socket from inside the loop: an empty map ends the loop.
            for channel in list(self._server._map.values()):
                channel.close()

        self._server.trigger.pull_trigger(close_everything)
        self._thread.join(timeout=5)
        self._thread = None

    def __enter__(self) -> MockVikingServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
