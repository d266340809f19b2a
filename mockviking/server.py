"""Serving an app over HTTP on waitress, in the foreground (CLI) or on a background thread.

waitress is a production WSGI server, pure Python, and binds port 0 then reports the real
port, so no port is ever guessed. Werkzeug's development server is never used.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import types
import typing as t

from waitress.server import create_server

if t.TYPE_CHECKING:
    from flask import Flask


class ServerError(Exception):
    """The server was used out of order (started twice, stopped before starting)."""


class _Stop(Exception):
    """Raised in the main thread by SIGTERM, to leave the serving loop cleanly."""


class MockVikingServer:
    """A mockviking app listening on ``host:port``; ``port=0`` picks a free port."""

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 0, *, threads: int = 8) -> None:
        self.app = app
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
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def serve_forever(self) -> None:
        """Serve in this thread until SIGINT or SIGTERM, then close cleanly."""

        def stop(signum: int, frame: types.FrameType | None) -> None:
            raise _Stop

        # Both signals are handled explicitly: a shell starts background jobs with SIGINT
        # ignored, and Python would then never raise KeyboardInterrupt.
        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self._server.run()
        except (KeyboardInterrupt, _Stop):
            pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._close()

    def start(self) -> None:
        """Serve on a daemon thread."""
        if self._thread is not None:
            raise ServerError("the server is already running")
        self._thread = threading.Thread(target=self._run_quietly, name="mockviking-server", daemon=True)
        self._thread.start()

    def _run_quietly(self) -> None:
        # Closing the sockets from another thread ends the loop with an OSError.
        with contextlib.suppress(OSError):
            self._server.run()

    def stop(self) -> None:
        """Stop the background thread started by :meth:`start`."""
        if self._thread is None:
            raise ServerError("the server is not running")
        self._close()
        self._thread.join(timeout=5)
        self._thread = None

    def _close(self) -> None:
        self._server.close()
        self._server.task_dispatcher.shutdown()

    def __enter__(self) -> MockVikingServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
