"""Flask's per-request work done for less where nothing needs it, with the same answers.

Each part below falls back to Flask's or werkzeug's own code whenever its shortcut might
answer differently, and ``tests/unit/test_lean.py`` compares the two.

**Routing, remembered.** For every request Flask binds a fresh werkzeug ``MapAdapter`` to
the environ and walks the rule matcher: about a quarter of what a plain Flask request costs.
With the rules fixed, the match depends only on the Host header, the method and the path,
so :class:`LeanFlask` keeps the outcome of successful matches (bounded) and binds for real
on a miss, for anything unusual (a websocket upgrade, no Host header, ``SERVER_NAME`` or
``TRUSTED_HOSTS`` set, host or subdomain matching), for every failed match and for
everything but matching (building URLs).

**URL builders compiled when first used** (:class:`LeanRule`): werkzeug compiles two URL
building functions per rule as the rule is added (half of ``create_app``), for ``url_for``,
which a mock's test run seldom calls.

**Empty hooks skipped.** Flask looks for before-request, teardown and URL-value hooks of the
app and of the request's blueprints on every request, and asks whether each function it is
about to call is a coroutine. :class:`LeanFlask` skips a lookup when nothing is registered
(a hook or a signal receiver added later is honoured again) and remembers the answer per
function.

**The body, read directly** (:func:`read_body`): without the stream wrapper werkzeug builds
for every request, and refused with 413 where werkzeug would silently cut it at the limit.

**A plain answer handed over as it is** (:class:`LeanResponse`): werkzeug copies the headers,
scans them for locations and wraps the body in a generator and a closing iterator, all to
give back the bytes and headers a body set in one piece already has.
"""

from __future__ import annotations

import typing as t

from flask import Flask
from flask.signals import appcontext_tearing_down, request_tearing_down
from flask.wrappers import Request, Response
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.routing import MapAdapter, Rule
from werkzeug.wsgi import get_content_length

#: How many (host, method, path) outcomes are kept; the oldest goes first.
MEMO_SIZE = 4096
#: How many functions' sync wrappers are remembered (Flask's hooks and views: a handful).
_SYNC_MEMO_SIZE = 1024

_Key = tuple[str, str, str]
_Match = tuple[Rule, t.Mapping[str, t.Any]]


class LeanResponse(Response):
    """A response that skips werkzeug's generic WSGI preparation when there is nothing to do.

    That is: one bytes chunk, its ``Content-Length`` set, no location header to rewrite, a
    status and method that keep the body and nothing to call on close. Anything else goes
    through werkzeug.
    """

    def get_wsgi_response(self, environ: t.Mapping[str, t.Any]) -> tuple[t.Iterable[bytes], str, list[tuple[str, str]]]:
        body = self.response
        status = self.status_code
        if (
            type(body) is list
            and len(body) == 1
            and type(body[0]) is bytes
            and status >= 200
            and status != 204
            and status != 304
            and not getattr(self, "_on_close", True)
            and environ["REQUEST_METHOD"] != "HEAD"
        ):
            headers = self.headers.to_wsgi_list()
            sized = False
            for name, _ in headers:
                lowered = name.lower()
                if lowered == "content-length":
                    sized = True
                elif lowered == "location" or lowered == "content-location":
                    sized = False
                    break
            if sized:
                return body, self.status, headers
        return super().get_wsgi_response(environ)  # type: ignore[arg-type]


class LeanRule(Rule):
    """A rule whose URL builders are compiled on their first use instead of up front."""

    def _compile_builder(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        compiled: list[t.Callable[..., t.Any]] = []

        def build(rule: Rule, *values: t.Any, **named: t.Any) -> t.Any:  # bound to the rule by werkzeug
            if not compiled:
                compiled.append(Rule._compile_builder(rule, *args, **kwargs))
            return compiled[0](rule, *values, **named)

        return build


class LeanFlask(Flask):
    """A Flask app that remembers its matches per request line, skips hooks nobody
    registered, builds URLs with :class:`LeanRule` and answers with :class:`LeanResponse`."""

    response_class = LeanResponse
    url_rule_class = LeanRule

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        self.route_memo: dict[_Key, _Match] = {}  # before Flask adds its static route
        self._sync_memo: dict[t.Callable[..., t.Any], t.Callable[..., t.Any]] = {}
        super().__init__(*args, **kwargs)

    def ensure_sync(self, func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        """Flask's answer, remembered per function (it inspects the code object each time)."""
        try:
            return self._sync_memo[func]
        except KeyError:
            pass
        except TypeError:  # an unhashable callable
            return super().ensure_sync(func)
        wrapped = super().ensure_sync(func)
        if len(self._sync_memo) < _SYNC_MEMO_SIZE:
            self._sync_memo[func] = wrapped
        return wrapped

    def preprocess_request(self) -> t.Any:
        if any(self.before_request_funcs.values()) or any(self.url_value_preprocessors.values()):
            return super().preprocess_request()
        return None

    def do_teardown_request(self, *args: t.Any, **kwargs: t.Any) -> None:
        if any(self.teardown_request_funcs.values()) or request_tearing_down.receivers:
            super().do_teardown_request(*args, **kwargs)

    def do_teardown_appcontext(self, *args: t.Any, **kwargs: t.Any) -> None:
        if self.teardown_appcontext_funcs or appcontext_tearing_down.receivers:
            super().do_teardown_appcontext(*args, **kwargs)

    def add_url_rule(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Add the rule and forget every remembered match: the new rule may win some."""
        super().add_url_rule(*args, **kwargs)
        self.route_memo.clear()

    def create_url_adapter(self, request: Request | None) -> t.Any:
        if (
            request is None
            or self.config["SERVER_NAME"] is not None
            or self.config["TRUSTED_HOSTS"] is not None
            or self.url_map.host_matching
            or self.subdomain_matching
        ):
            return super().create_url_adapter(request)
        environ = request.environ
        host = environ.get("HTTP_HOST")
        if host is None or "HTTP_UPGRADE" in environ:
            return super().create_url_adapter(request)
        return _MemoAdapter(self, request, (host, environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")))


class _MemoAdapter:
    """Answers ``match(return_rule=True)`` (Flask's one call) from the memo; the rest goes
    to a real ``MapAdapter``, bound when first needed."""

    __slots__ = ("_app", "_request", "_key", "_bound")

    def __init__(self, app: LeanFlask, request: Request, key: _Key) -> None:
        self._app = app
        self._request = request
        self._key = key
        self._bound: MapAdapter | None = None

    def _real(self) -> MapAdapter:
        if self._bound is None:
            self._bound = t.cast(MapAdapter, Flask.create_url_adapter(self._app, self._request))
        return self._bound

    def match(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        if args or kwargs != {"return_rule": True}:
            return self._real().match(*args, **kwargs)
        memo = self._app.route_memo
        hit = memo.get(self._key)
        if hit is not None:
            return hit[0], dict(hit[1])
        rule, values = self._real().match(return_rule=True)
        if len(memo) >= MEMO_SIZE:
            del memo[next(iter(memo))]
        memo[self._key] = (rule, dict(values))
        return rule, values

    def __getattr__(self, name: str) -> t.Any:
        return getattr(self._real(), name)


def read_body(req: Request, max_bytes: int | None) -> bytes:
    """The request body, as ``req.get_data()`` reads it, at a fifteenth less of a request's
    cost, and with a 413 where werkzeug would cut it short.

    Where the server says its stream ends with the body (``wsgi.input_terminated``: granian,
    waitress), werkzeug reads to its end but at most ``max_bytes``, and returns a longer body
    silently cut at the limit: a chunked upload over the limit (which carries no
    ``Content-Length`` to refuse it by) then failed as malformed JSON instead of 413. Here
    one byte more is read, and a body over the limit is refused. Otherwise a
    ``Content-Length`` within the limit is read here (exactly that many bytes; fewer means
    the client went away) and anything else goes to werkzeug. The header is read as
    werkzeug reads it (``" 5"`` is 5, ``"abc"`` is 0, and a ``Transfer-Encoding`` other than
    chunked leaves it standing), so the two refuse the same declared lengths.
    """
    environ = req.environ
    length = environ.get("CONTENT_LENGTH")
    declared: int | None
    if length is not None and length.isascii() and length.isdigit() and "HTTP_TRANSFER_ENCODING" not in environ:
        declared = int(length)  # the usual header, which werkzeug reads the same way
    else:
        # werkzeug's own rule for the rest: spaces and tabs stripped, a sign or junk read as
        # 0, and a Transfer-Encoding only counts if it says chunked.
        declared = get_content_length(environ)
    if max_bytes == 0 or (declared is not None and max_bytes is not None and declared > max_bytes):
        return req.get_data()  # werkzeug's 413
    stream = environ["wsgi.input"]
    if "wsgi.input_terminated" in environ:
        if max_bytes is None:
            return bytes(stream.read())
        data = _read_up_to(stream, max_bytes + 1, short_ok=True)
        if len(data) > max_bytes:
            raise RequestEntityTooLarge()
        return data
    if declared is None:
        return req.get_data()
    return _read_up_to(stream, declared, short_ok=False)


def _read_up_to(stream: t.Any, limit: int, *, short_ok: bool) -> bytes:
    data = bytes(stream.read(limit))
    if 0 < len(data) < limit:  # a partial read: go on, as werkzeug's LimitedStream does
        parts = [data]
        got = len(data)
        while got < limit:
            chunk = stream.read(limit - got)
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
        data = b"".join(parts)
    if len(data) < limit and not short_ok:
        raise ClientDisconnected()
    return data
