"""Helpers of the verify tests: ``mockviking verify`` runs, deliberately wrong servers.

The real ``mockviking serve`` subprocesses come from :mod:`tests._support` (``running_server``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import re
import socket
import typing as t

from mockviking import Config, create_app
from mockviking.serving.waitress_server import MockVikingServer
from tests._support import run_cli

WsgiApp = t.Callable[[dict[str, t.Any], t.Callable[..., t.Any]], t.Iterable[bytes]]


@contextlib.contextmanager
def serve_wsgi(app: WsgiApp) -> t.Iterator[str]:
    """Serve a WSGI app with waitress on 127.0.0.1 and a free port, on a thread; yields its URL."""
    server = MockVikingServer(app, "127.0.0.1", 0, threads=4)  # type: ignore[arg-type]
    with server:
        yield server.url


def free_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (a port just bound and released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@dataclasses.dataclass(frozen=True)
class Result:
    """How a ``mockviking verify`` run ended and what it printed (stdout, then stderr)."""

    exit_code: int
    output: str


def run_verify(*args: str, timeout: float = 600.0) -> Result:
    """``mockviking verify ARGS`` in a child process, so no state of this test process (the
    hypothesis and schemathesis globals other tests touch) can change what it does."""
    done = run_cli("verify", *args, timeout=timeout)
    return Result(done.returncode, done.stdout + done.stderr)


# -- deliberately wrong servers: mockviking's own app with one thing broken --------------------


def mockviking_app() -> WsgiApp:
    """mockviking with the bundled fixtures (api_key mode, root key ``mockviking-root-key``)."""
    return t.cast(WsgiApp, create_app(Config()))


def validation_errors_as_422(app: WsgiApp) -> WsgiApp:
    """Answers 422 where mockviking answers 400 (the error envelope stays INVALID_ARGUMENT)."""

    def wrapped(environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]) -> t.Iterable[bytes]:
        def respond(status: str, headers: list[tuple[str, str]], exc_info: t.Any = None) -> t.Any:
            if status.startswith("400"):
                status = "422 Unprocessable Entity"
            return start_response(status, headers, exc_info)

        return app(environ, respond)

    return wrapped


def without_agent_id(app: WsgiApp) -> WsgiApp:
    """GET /api/v1/sessions/{id} answers without ``result.user.agent_id``."""
    session_path = re.compile(r"^/api/v1/sessions/[^/]+$")

    def edit(body: t.Any) -> t.Any:
        user = body.get("result", {}).get("user") if isinstance(body, dict) else None
        if isinstance(user, dict):
            user.pop("agent_id", None)
        return body

    def wrapped(environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]) -> t.Iterable[bytes]:
        if environ["REQUEST_METHOD"] != "GET" or not session_path.match(environ.get("PATH_INFO", "")):
            return app(environ, start_response)
        return _rewrite_json_response(app, environ, start_response, edit)

    return wrapped


def batch_keeps_first_message(app: WsgiApp) -> WsgiApp:
    """POST …/messages/batch stores only the first message of the batch."""
    batch_path = re.compile(r"^/api/v1/sessions/[^/]+/messages/batch$")

    def wrapped(environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]) -> t.Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "POST" and batch_path.match(environ.get("PATH_INFO", "")):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length)
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            if isinstance(body, dict) and isinstance(body.get("messages"), list):
                body["messages"] = body["messages"][:1]
                raw = json.dumps(body).encode("utf-8")
            environ["wsgi.input"] = io.BytesIO(raw)
            environ["CONTENT_LENGTH"] = str(len(raw))
        return app(environ, start_response)

    return wrapped


def _rewrite_json_response(
    app: WsgiApp,
    environ: dict[str, t.Any],
    start_response: t.Callable[..., t.Any],
    edit: t.Callable[[t.Any], t.Any],
) -> t.Iterable[bytes]:
    captured: dict[str, t.Any] = {}

    def capture(status: str, headers: list[tuple[str, str]], exc_info: t.Any = None) -> t.Callable[[bytes], None]:
        captured["status"], captured["headers"] = status, headers
        return lambda data: None

    chunks = app(environ, capture)
    try:
        raw = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    with contextlib.suppress(ValueError):
        raw = json.dumps(edit(json.loads(raw)), separators=(",", ":")).encode("utf-8")
    headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
    headers.append(("Content-Length", str(len(raw))))
    start_response(captured["status"], headers)
    return [raw]
