"""Where errors become responses (through the table of ``web.errors``), and where every
response gets its headers.

Three handlers cover everything: the domain's and the contract's errors, werkzeug's HTTP
errors (unknown route, wrong method, body too large) and any other exception (a 500 in the
envelope, recorded so tests can see it). No request ever gets an HTML page.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
import typing as t

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from mockviking.domain.errors import DomainError
from mockviking.harness.config import CONTROL_PREFIX
from mockviking.harness.violations import Violation, ViolationLog
from mockviking.web.errors import INTERNAL_ERROR_BODY, HttpError, envelope, framework_code, headers_of, status_of
from mockviking.web.lean import LeanResponse

log = logging.getLogger("mockviking")

_MAX_RECORDED_ERRORS = 100
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:/-]{1,128}$")

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _c_encoder() -> t.Callable[[t.Any], str]:
    """``_ENCODER.encode``, minus what it redoes on every call: building the C encoder and
    guarding against cycles (an answer is built fresh and never holds one). The output
    is the same, errors included (``ValueError`` for NaN, ``TypeError`` for other types)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without the C accelerator
        return _ENCODER.encode
    encode = make(None, _ENCODER.default, json.encoder.encode_basestring, None, ":", ",", False, False, False)
    join = "".join
    return lambda body: join(encode(body, 0))


#: Compact JSON with non-ASCII kept as is, as the real server writes it.
encode_json = _c_encoder()


def json_response(body: t.Any, status: int = 200, headers: t.Mapping[str, str] | None = None) -> Response:
    """Compact JSON with non-ASCII kept as is, like the real server's responses."""
    response = LeanResponse(encode_json(body), status=status, mimetype="application/json")
    if headers:
        response.headers.update(headers)
    return response


def error_response(error: DomainError) -> Response:
    """An error's envelope with its status and headers."""
    return json_response(envelope(error), status_of(error), headers_of(error))


def framework_error(exc: HTTPException) -> HttpError:
    """A werkzeug HTTP error (route miss, wrong method...) in the real server's terms."""
    status = exc.code or 500
    code = framework_code(status)
    headers: dict[str, str] = {}
    details = None
    if status == 413:
        details = {"max_body_bytes": request.max_content_length}
    message = {
        413: "Request body is too large: send at most "
        f"{request.max_content_length} bytes",
    }.get(status, exc.name)
    return HttpError(code, message, details, status=status, headers=headers)


def record_route_violation(log: ViolationLog, rule: str, allow: str = "") -> None:
    """Note a request for a route or method the contract does not have."""
    if request.path.startswith(CONTROL_PREFIX):
        return  # the control API is mockviking's own, not part of the OpenViking contract
    if rule == "unknown_route":
        message = f"{request.method} {request.path} matches no route of the contract"
    else:
        message = f"{request.method} is not allowed here; the contract allows {allow}"
    violation = Violation(request.method, request.path, None, "path", rule, message, request.path)
    log.add(violation)
    g.violations = [violation.to_dict()]


#: Where :class:`RequestStamp` leaves the request's start (``time.perf_counter()``) in the environ.
STARTED = "mockviking.started"


class RequestStamp:
    """WSGI middleware: every answer, errors included, gets ``X-Request-ID`` and ``X-Process-Time``.

    Like the real server, a well-formed ``X-Request-ID`` is echoed and anything else is
    replaced by a new UUID. Done around Flask rather than in its hooks: it is on every
    request, and here it costs a list append.
    """

    def __init__(self, wsgi_app: t.Callable[..., t.Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app
        # Its own generator: drawing from ``random``'s would shift a test's seeded sequence.
        self._random = random.Random()

    def __call__(self, environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]) -> t.Iterable[bytes]:
        started = environ[STARTED] = time.perf_counter()
        given = environ.get("HTTP_X_REQUEST_ID")
        request_id = given if given is not None and _REQUEST_ID.match(given) else self.new_id()

        def stamped(status: str, headers: list[tuple[str, str]], exc_info: t.Any = None) -> t.Any:
            headers.append(("X-Request-ID", request_id))
            headers.append(("X-Process-Time", f"{time.perf_counter() - started:.6f}"))
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, stamped)

    def new_id(self) -> str:
        """A random (version 4) UUID, as ``str(uuid.uuid4())`` makes, at a third of its cost."""
        n = self._random.getrandbits(128) & ~(0xF000 << 64) | (0x4000 << 64)
        n = n & ~(0xC000 << 48) | (0x8000 << 48)
        h = f"{n:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def install(app: Flask, recorded: list[BaseException], violations: ViolationLog) -> None:
    """Register the error handlers and the per-response headers on ``app``.

    Unexpected exceptions are appended to ``recorded``, so a test can see them; requests
    for routes or methods the contract lacks are noted in ``violations``.
    """
    app.wsgi_app = RequestStamp(app.wsgi_app)  # type: ignore[method-assign]

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError) -> Response:
        if status_of(exc) >= 500 and exc.code != "UNIMPLEMENTED" and "fault" not in g:
            log.error("%s %s -> %s %s", request.method, request.path, exc.code, exc.message)
        return error_response(exc)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        if isinstance(exc, NotFound):
            redirect = _slash_redirect(app)
            if redirect is not None:
                return redirect
            record_route_violation(violations, "unknown_route")
        error = framework_error(exc)
        if isinstance(exc, MethodNotAllowed):
            # A method no rule takes (QUERY, CONNECT...): name the methods the path declares.
            error.headers["Allow"] = _declared_methods(app, exc)
            record_route_violation(violations, "method_not_allowed", error.headers["Allow"])
        return error_response(error)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # A bug in mockviking: answer in the envelope and keep it for the test that caused it.
        log.exception("unhandled error on %s %s", request.method, request.path)
        if len(recorded) < _MAX_RECORDED_ERRORS:
            recorded.append(exc)
        return json_response(INTERNAL_ERROR_BODY, 500)


def _slash_redirect(app: Flask) -> Response | None:
    """307 to the same path without its trailing slash, when that path is a route.

    The real server (Starlette's ``redirect_slashes``) does this with an empty body.
    """
    path = request.path
    if len(path) < 2 or not path.endswith("/"):
        return None
    target = path.rstrip("/") or "/"
    adapter = app.url_map.bind_to_environ(request.environ)
    try:
        adapter.match(target, method=request.method)
    except MethodNotAllowed:
        pass
    except HTTPException:
        return None
    query = request.query_string.decode("latin-1")
    location = request.host_url.rstrip("/") + target + (f"?{query}" if query else "")
    response = Response(b"", status=307, headers={"Location": location})
    del response.headers["Content-Type"]
    return response


def _declared_methods(app: Flask, exc: MethodNotAllowed) -> str:
    adapter = app.url_map.bind_to_environ(request.environ)
    try:
        endpoint, _ = adapter.match(method=next(iter(exc.valid_methods or ["GET"])))
    except HTTPException:
        return ", ".join(exc.valid_methods or [])
    return str(app.extensions.get("mockviking.allow", {}).get(endpoint, ""))
