"""A second transport for tests written against Flask's test client: a real socket.

moto runs its suite a second time in server mode; the API tests do the same here. The
in-process transport is ``app.test_client()``. The live one serves the very same app object
on waitress, as ``mockviking serve --server waitress`` and the pytest plugin do (one
:class:`~mockviking.serving.waitress_server.MockVikingServer` for the whole session), and
:class:`LiveClient` speaks HTTP/1.1 to it with ``http.client``. Both run in this process, so a
test may still look at ``app.extensions`` after a request.

The shared server serves many apps, one per test (a fresh store each): :class:`AppSwitch`, the
WSGI app it runs, picks the target app by a routing header that the client adds and the
switch removes before the app sees the request.
"""

from __future__ import annotations

import http.client
import itertools
import json as jsonlib
import threading
import typing as t
import urllib.parse

from werkzeug.datastructures import Headers
from werkzeug.http import parse_options_header

if t.TYPE_CHECKING:
    from flask.testing import FlaskClient

WsgiApp = t.Callable[[dict[str, t.Any], t.Callable[..., t.Any]], t.Iterable[bytes]]
HeadersLike = t.Mapping[str, str] | t.Iterable[tuple[str, str]] | Headers | None

#: The routing header (never seen by the app: :class:`AppSwitch` takes it out of the environ).
ROUTE_HEADER = "X-Mockviking-Test-App"
_ROUTE_ENVIRON_KEY = "HTTP_" + ROUTE_HEADER.upper().replace("-", "_")
#: Methods whose request carries a body: sent with ``Content-Length: 0`` when there is none,
#: as ``http.client``, httpx and requests do.
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
#: Seconds to wait for an answer; fault rules in the tests delay by milliseconds at most.
TIMEOUT = 30.0


class AppSwitch:
    """The WSGI app of the shared server: forwards each request to the app it is routed to."""

    def __init__(self) -> None:
        self._apps: dict[str, WsgiApp] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def register(self, app: WsgiApp) -> str:
        """Route requests carrying the returned token to ``app``."""
        with self._lock:
            token = str(next(self._ids))
            self._apps[token] = app
        return token

    def unregister(self, token: str) -> None:
        with self._lock:
            self._apps.pop(token, None)

    def __call__(self, environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]) -> t.Iterable[bytes]:
        token = environ.pop(_ROUTE_ENVIRON_KEY, None)
        with self._lock:
            app = self._apps.get(token) if token is not None else None
        if app is None:
            body = f"no test app is routed to {token!r}\n".encode()
            start_response("421 Misdirected Request", [("Content-Type", "text/plain"),
                                                       ("Content-Length", str(len(body)))])
            return [body]
        return app(environ, start_response)


class LiveResponse:
    """What a test reads of an answer, as on Flask's test response."""

    def __init__(self, status_code: int, reason: str, headers: Headers, data: bytes) -> None:
        self.status_code = status_code
        self.status = f"{status_code} {reason}"
        self.headers = headers
        self.data = data

    def get_data(self, as_text: bool = False) -> t.Any:
        return self.data.decode("utf-8") if as_text else self.data

    @property
    def text(self) -> str:
        return t.cast(str, self.get_data(as_text=True))

    @property
    def content_type(self) -> str | None:
        return self.headers.get("Content-Type")

    @property
    def mimetype(self) -> str | None:
        value = self.content_type
        return parse_options_header(value)[0].lower() if value else None

    @property
    def is_json(self) -> bool:
        mimetype = self.mimetype or ""
        return mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))

    def get_json(self, force: bool = False, silent: bool = False) -> t.Any:
        """The body parsed as JSON; ``None`` when it is not JSON, as werkzeug's does."""
        if not (force or self.is_json):
            return None
        try:
            return jsonlib.loads(self.data)
        except ValueError:
            if silent:
                return None
            raise

    @property
    def json(self) -> t.Any:
        return self.get_json()

    def __repr__(self) -> str:
        return f"<LiveResponse {self.status}>"


class LiveClient:
    """The part of Flask's test client the API tests use, over a socket to ``origin``.

    Requests go out as given: the path and query as written (already percent-encoded),
    headers in order and repeated if given so, the body as bytes. ``json=`` is sent as
    ``json.dumps`` writes it, in the dict's order. One connection per request, closed after
    the answer is read; redirects are not followed.
    """

    def __init__(self, origin: str, token: str | None = None) -> None:
        self.origin = origin
        parsed = urllib.parse.urlsplit(origin)
        self._host = parsed.hostname or "127.0.0.1"
        self._port = parsed.port or 80
        self._token = token
        self._cookies: dict[str, str] = {}

    def set_cookie(self, key: str, value: str = "", **kwargs: t.Any) -> None:
        """Send ``key=value`` in a Cookie header from now on (attributes are not kept)."""
        self._cookies[key] = value

    def open(
        self,
        path: str,
        method: str = "GET",
        *,
        headers: HeadersLike = None,
        json: t.Any = None,
        data: bytes | str | None = None,
        content_type: str | None = None,
    ) -> LiveResponse:
        header_list = _header_list(headers)
        body: bytes | None = None
        if json is not None:
            if data is not None:
                raise TypeError("json and data are exclusive")
            body = jsonlib.dumps(json).encode("utf-8")
            content_type = content_type or "application/json"
        elif data is not None:
            if not isinstance(data, (bytes, str)):
                raise TypeError(f"data must be bytes or str, not {type(data).__name__}")
            body = data.encode("utf-8") if isinstance(data, str) else data
        if content_type is not None and not any(k.lower() == "content-type" for k, _ in header_list):
            header_list.append(("Content-Type", content_type))
        if self._cookies:
            header_list.append(("Cookie", "; ".join(f"{k}={v}" for k, v in self._cookies.items())))
        if self._token is not None:
            header_list.append((ROUTE_HEADER, self._token))
        if body is None and method.upper() in _BODY_METHODS:
            body = b""
        if body is not None:
            header_list.append(("Content-Length", str(len(body))))

        connection = http.client.HTTPConnection(self._host, self._port, timeout=TIMEOUT)
        try:
            connection.putrequest(method, path, skip_accept_encoding=True)
            for name, value in header_list:
                connection.putheader(name, value)
            connection.endheaders(body)
            response = connection.getresponse()
            payload = response.read()
            return LiveResponse(response.status, response.reason, Headers(response.getheaders()), payload)
        finally:
            connection.close()

    def get(self, path: str, **kwargs: t.Any) -> LiveResponse:
        return self.open(path, "GET", **kwargs)

    def post(self, path: str, **kwargs: t.Any) -> LiveResponse:
        return self.open(path, "POST", **kwargs)

    def put(self, path: str, **kwargs: t.Any) -> LiveResponse:
        return self.open(path, "PUT", **kwargs)

    def patch(self, path: str, **kwargs: t.Any) -> LiveResponse:
        return self.open(path, "PATCH", **kwargs)

    def delete(self, path: str, **kwargs: t.Any) -> LiveResponse:
        return self.open(path, "DELETE", **kwargs)

    def head(self, path: str, **kwargs: t.Any) -> LiveResponse:
        return self.open(path, "HEAD", **kwargs)

    def options(self, path: str, **kwargs: t.Any) -> LiveResponse:
        return self.open(path, "OPTIONS", **kwargs)


def _header_list(headers: HeadersLike) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if isinstance(headers, Headers):
        return list(headers.items())
    if isinstance(headers, t.Mapping):
        return [(str(k), str(v)) for k, v in headers.items()]
    return [(str(k), str(v)) for k, v in headers]


#: What a test drives: Flask's test client (in-process) or :class:`LiveClient` (a socket).
Client = t.Union["FlaskClient", LiveClient]
