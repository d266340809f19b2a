"""Serving an app over HTTP on waitress, in the foreground (CLI) or on a background thread.

waitress is a production WSGI server, pure Python, and binds port 0 then reports the real
port, so no port is ever guessed. It serves inside the calling process, which is what the
pytest plugin needs, and ``mockviking serve --server waitress`` (the default on Windows);
``serve`` otherwise runs on granian (``granian_server.py``). Werkzeug's development server
is never used.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import types
import typing as t

from mockviking.serving.addresses import http_url

if t.TYPE_CHECKING:
    from flask import Flask


class ServingError(Exception):
    """The server was used out of order (started twice, stopped before starting)."""


class MockVikingServer:
    """A mockviking app listening on ``host:port``; ``port=0`` picks a free port."""

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 0, *, threads: int = 8) -> None:
        self.app = app
        from waitress.server import create_server  # here: `serve` on granian never needs it

        # waitress warns "Task queue depth is N" whenever every thread is busy: under a load
        # test that is thousands of lines of noise, not a problem of the mock's. Set when a
        # server is made, not when this module is imported.
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)

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
            raise ServingError("the server is already running")
        self._thread = threading.Thread(target=self._run_quietly, name="mockviking-server", daemon=True)
        self._thread.start()

    def _run_quietly(self) -> None:
        # A stop that races with a closing client may end the loop with an OSError.
        with contextlib.suppress(OSError):
            self._server.run()

    def stop(self) -> None:
        """Stop the server started by :meth:`start`: finish requests in flight, then close."""
        if self._thread is None:
            raise ServingError("the server is not running")
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
