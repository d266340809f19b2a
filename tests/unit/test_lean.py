"""The lean request path answers exactly as werkzeug's: routing (first time and every time
after) and the body read."""

from __future__ import annotations

import typing as t

import pytest
from flask import Flask
from hypothesis import example, given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import HTTPException
from werkzeug.test import EnvironBuilder

from mockviking import Config, create_app
from mockviking.web.lean import MEMO_SIZE, LeanFlask

_APP = create_app(Config())

_SEGMENTS = st.sampled_from(
    ["api", "v1", "sessions", "messages", "batch", "commit", "context", "health", "admin",
     "accounts", "users", "_mockviking", "s1", "", ".", "..", "%2F", "a b", "é", "x" * 70]
)
_PATHS = st.lists(_SEGMENTS, min_size=0, max_size=6).map(lambda parts: "/" + "/".join(parts)) | st.text(
    st.characters(codec="latin-1"), max_size=30
)
_METHODS = st.sampled_from(["GET", "POST", "DELETE", "PUT", "HEAD", "OPTIONS", "QUERY", "CONNECT"])
_HOSTS = st.sampled_from(["localhost", "127.0.0.1:8080", "[::1]:9", "Example.COM", "bad host", "ex\u00e4mple.org", ""])


def _outcome(app: Flask, environ: dict[str, t.Any], memo: bool) -> t.Any:
    request = app.request_class(environ)
    try:
        adapter = app.create_url_adapter(request) if memo else Flask.create_url_adapter(app, request)
        assert adapter is not None
        rule, values = adapter.match(return_rule=True)
    except HTTPException as exc:
        return (type(exc).__name__, exc.code, getattr(exc, "valid_methods", None), getattr(exc, "new_url", None))
    return rule.rule, rule.endpoint, dict(values)


def _environ(method: str, path: str, host: str, upgrade: bool = False) -> dict[str, t.Any]:
    environ = EnvironBuilder(method=method).get_environ()
    environ["PATH_INFO"] = path
    environ["HTTP_HOST"] = host
    if upgrade:
        environ["HTTP_CONNECTION"] = "Upgrade"
        environ["HTTP_UPGRADE"] = "websocket"
    return environ


@settings(max_examples=300, deadline=None)
@given(method=_METHODS, path=_PATHS, host=_HOSTS, upgrade=st.booleans())
def test_same_outcome_as_werkzeug_before_and_after_it_is_remembered(
    method: str, path: str, host: str, upgrade: bool
) -> None:
    environ = _environ(method, path, host, upgrade)
    expected = _outcome(_APP, environ, memo=False)
    assert _outcome(_APP, environ, memo=True) == expected
    assert _outcome(_APP, environ, memo=True) == expected  # now from the memo, if it matched


def test_a_match_is_remembered_and_its_values_are_a_fresh_dict() -> None:
    app = create_app(Config())
    environ = _environ("GET", "/api/v1/sessions/s1", "localhost")
    rule, values = app.create_url_adapter(app.request_class(environ)).match(return_rule=True)
    assert isinstance(app, LeanFlask)
    assert len(app.route_memo) == 1
    t.cast(dict[str, t.Any], values)["session_id"] = "changed"
    again = app.create_url_adapter(app.request_class(environ)).match(return_rule=True)
    assert again == (rule, {"session_id": "s1"})


def test_the_memo_is_bounded_oldest_first() -> None:
    app = create_app(Config())
    assert isinstance(app, LeanFlask)
    client = app.test_client()
    for i in range(MEMO_SIZE + 5):
        app.create_url_adapter(app.request_class(_environ("GET", f"/api/v1/sessions/s{i}", "h"))).match(
            return_rule=True
        )
    assert len(app.route_memo) == MEMO_SIZE
    assert ("h", "GET", "/api/v1/sessions/s0") not in app.route_memo
    assert ("h", "GET", f"/api/v1/sessions/s{MEMO_SIZE + 4}") in app.route_memo
    assert client.get("/health").status_code == 200


def test_a_new_rule_is_not_hidden_by_a_remembered_match() -> None:
    # Flask refuses new rules once a request was served; matching alone (a test setting up
    # an app, say) may come first.
    app = LeanFlask("probe")
    app.add_url_rule("/items/<name>", endpoint="any")
    environ = _environ("GET", "/items/special", "h")
    assert _outcome(app, environ, memo=True)[1] == "any"
    assert app.route_memo
    app.add_url_rule("/items/special", endpoint="special")
    assert _outcome(app, environ, memo=True)[1] == "special"


@pytest.mark.parametrize("upgrade", [False, True])
def test_a_websocket_upgrade_is_refused_even_after_the_path_was_remembered(upgrade: bool) -> None:
    app = create_app(Config())
    client = app.test_client()
    assert client.get("/health").status_code == 200
    headers = {"Connection": "Upgrade", "Upgrade": "websocket"} if upgrade else {}
    response = client.get("/health", headers=headers)
    assert response.status_code == (400 if upgrade else 200)
    assert response.is_json


# -- the body read ---------------------------------------------------------------------------

_LENGTHS = (
    st.none()
    | st.sampled_from(["", "0", "5", "007", "+5", "-1", "-0", " 5", "5 ", "\t5 ", " ", "1_0", "²", "٣", "abc", "99999"])
    | st.integers(0, 40).map(str)
)


@settings(max_examples=400, deadline=None)
@given(
    body=st.binary(max_size=30),
    length=_LENGTHS,
    encoding=st.sampled_from([None, "chunked", "gzip", "gzip, chunked", ""]),
    terminated=st.booleans(),
    max_bytes=st.none() | st.integers(0, 40),
)
@example(body=b"", length="0", encoding=None, terminated=True, max_bytes=0)  # a zero limit: 413
@example(body=b"abcdef", length="3", encoding=None, terminated=True, max_bytes=4)  # read to the limit
@example(body=b"ab", length="3", encoding=None, terminated=False, max_bytes=None)  # short: 400
@example(body=b"abcdef", length=None, encoding="chunked", terminated=True, max_bytes=4)  # werkzeug cuts it: 413
@example(body=b"", length=" 5", encoding=None, terminated=True, max_bytes=1)  # werkzeug strips the space: 413
@example(body=b"", length="5", encoding="gzip", terminated=True, max_bytes=1)  # not chunked: the length counts
def test_the_body_read_is_werkzeugs_but_never_cut_short(
    body: bytes, length: str | None, encoding: str | None, terminated: bool, max_bytes: int | None
) -> None:
    import io

    from mockviking.web.lean import read_body

    def outcome(read: t.Callable[[t.Any], bytes]) -> t.Any:
        environ = EnvironBuilder(method="POST").get_environ()
        environ["wsgi.input"] = io.BytesIO(body)
        environ.pop("CONTENT_LENGTH", None)
        if length is not None:
            environ["CONTENT_LENGTH"] = length
        if encoding is not None:
            environ["HTTP_TRANSFER_ENCODING"] = encoding
        if terminated:
            environ["wsgi.input_terminated"] = True
        request = app.request_class(environ)
        try:
            return read(request)
        except HTTPException as exc:
            return type(exc).__name__

    app = Flask("probe")
    app.config["MAX_CONTENT_LENGTH"] = max_bytes
    with app.app_context():
        expected = outcome(lambda request: request.get_data())
        if terminated and max_bytes and isinstance(expected, bytes) and len(body) > max_bytes:
            # werkzeug silently cuts a terminated stream at the limit; mockviking refuses it.
            assert expected == body[:max_bytes]
            expected = "RequestEntityTooLarge"
        assert outcome(lambda request: read_body(request, max_bytes)) == expected


# -- hooks ------------------------------------------------------------------------------------


_HOOKS = ["bp before", "bp values", "bp teardown", "before", "teardown", "app teardown", "signal request", "signal app"]


def _hooked(cls: type[Flask], calls: list[str], hook: str) -> Flask:
    """An app with one kind of hook, of those the lean path skips when there are none."""
    from flask import Blueprint
    from flask.signals import appcontext_tearing_down, request_tearing_down

    app = cls("hooked")
    blueprint = Blueprint("bp", "hooked")
    blueprint.add_url_rule("/bp/<name>", "item", lambda name: f"item {name}")
    note = calls.append
    if hook == "bp before":
        blueprint.before_request(lambda: note("bp before") or None)
    elif hook == "bp values":
        blueprint.url_value_preprocessor(lambda endpoint, values: note(f"bp values {endpoint} {values}"))
    elif hook == "bp teardown":
        blueprint.teardown_request(lambda exc: note(f"bp teardown {exc!r}") or None)
    elif hook == "before":
        app.before_request(lambda: "stopped early" if note("before") is None and _path() == "/stop" else None)
    elif hook == "teardown":
        app.teardown_request(lambda exc: note(f"teardown {exc!r}") or None)
    elif hook == "app teardown":
        app.teardown_appcontext(lambda exc: note("app teardown") or None)
    elif hook == "signal request":
        request_tearing_down.connect(lambda sender, **extra: note("signal request"), app, weak=False)
    elif hook == "signal app":
        appcontext_tearing_down.connect(lambda sender, **extra: note("signal app"), app, weak=False)
    app.register_blueprint(blueprint)
    app.add_url_rule("/stop", "stop", lambda: "not reached")
    return app


def _path() -> str:
    from flask import request

    return request.path


@pytest.mark.parametrize("hook", _HOOKS)
@pytest.mark.parametrize("path", ["/bp/x", "/stop", "/missing"])
def test_registered_hooks_run_as_in_flask(path: str, hook: str) -> None:
    runs = {}
    for cls in (Flask, LeanFlask):
        calls: list[str] = []
        response = _hooked(cls, calls, hook).test_client().get(path)
        runs[cls.__name__] = (response.status_code, response.text, calls)
    assert runs["LeanFlask"] == runs["Flask"]


def test_every_hook_ran_somewhere() -> None:
    # The comparison above is only worth something if the hooks do run.
    for hook in _HOOKS:
        calls: list[str] = []
        client = _hooked(LeanFlask, calls, hook).test_client()
        for path in ("/bp/x", "/stop"):
            client.get(path)
        assert calls, hook
    stopped = _hooked(LeanFlask, [], "before").test_client().get("/stop")
    assert stopped.text == "stopped early"


def test_hooks_added_after_a_request_still_run() -> None:
    from flask.signals import request_tearing_down

    app = LeanFlask("late")
    app.add_url_rule("/", "index", lambda: "ok")
    calls: list[str] = []
    app.teardown_appcontext(lambda exc: calls.append("app teardown") or None)
    assert app.test_client().get("/").text == "ok"
    assert calls == ["app teardown"]

    def receiver(sender: t.Any, **extra: t.Any) -> None:
        calls.append("signal request")

    with request_tearing_down.connected_to(receiver, app):
        app.test_client().get("/")
    assert calls == ["app teardown", "signal request", "app teardown"]


def test_a_coroutine_function_is_still_wrapped_every_time() -> None:
    app = LeanFlask("async")
    wrapped = [lambda: "wrapped"]
    app.async_to_sync = lambda func: wrapped[0]  # type: ignore[method-assign]

    async def view() -> str:
        return "raw"

    def plain() -> str:
        return "plain"

    assert app.ensure_sync(view) is wrapped[0]
    assert app.ensure_sync(view) is wrapped[0]
    assert app.ensure_sync(plain) is plain


# -- the answer handed over -------------------------------------------------------------------


def _wsgi(response_class: type[Flask.response_class], spec: dict[str, t.Any], method: str) -> t.Any:
    from flask.wrappers import Response

    response = t.cast(Response, response_class(spec["body"], status=spec["status"], mimetype=spec["mimetype"]))
    for name, value in spec["headers"]:
        response.headers.add(name, value)
    if spec["drop_length"]:
        del response.headers["Content-Length"]
    if spec["passthrough"]:
        response.direct_passthrough = True
    closed: list[str] = []
    if spec["on_close"]:
        response.call_on_close(lambda: closed.append("closed"))
    environ = EnvironBuilder(method=method, path="/here/", base_url="http://h.example/app").get_environ()
    app_iter, status, headers = response.get_wsgi_response(environ)
    body = list(app_iter)
    getattr(app_iter, "close", lambda: None)()
    return body, status, headers, closed


_BODIES = st.binary(max_size=8) | st.text(max_size=8) | st.lists(st.binary(max_size=4), max_size=3)


@settings(max_examples=400, deadline=None)
@given(
    body=_BODIES,
    status=st.sampled_from([200, 201, 204, 206, 301, 304, 307, 400, 404, 413, 500, 101]),
    mimetype=st.sampled_from(["application/json", "text/plain", None]),
    headers=st.lists(
        st.tuples(
            st.sampled_from(["Location", "location", "Content-Location", "X-Thing", "Allow", "Content-Length"]),
            st.sampled_from(["/elsewhere", "http://other/x", "ü", "7", "GET"]),
        ),
        max_size=3,
    ),
    drop_length=st.booleans(),
    passthrough=st.booleans(),
    on_close=st.booleans(),
    method=st.sampled_from(["GET", "POST", "HEAD"]),
)
@example(body=b"{}", status=200, mimetype="application/json", headers=[], drop_length=False, passthrough=False,
         on_close=False, method="GET")  # the plain answer: the quick way
def test_the_answer_is_werkzeugs(method: str, **spec: t.Any) -> None:
    from flask.wrappers import Response

    from mockviking.web.lean import LeanResponse

    assert _wsgi(LeanResponse, spec, method) == _wsgi(Response, spec, method)


def test_the_plain_answer_skips_werkzeugs_preparation() -> None:
    # The equality above would hold if LeanResponse did nothing at all: show it does.
    from unittest import mock

    from flask.wrappers import Response

    from mockviking.web.lean import LeanResponse

    environ = EnvironBuilder(method="GET").get_environ()
    with mock.patch.object(Response, "get_wsgi_headers", side_effect=AssertionError("werkzeug's path")):
        body, status, headers = LeanResponse(b"{}", mimetype="application/json").get_wsgi_response(environ)
        assert (body, status, headers) == ([b"{}"], "200 OK", [("Content-Type", "application/json"),
                                                              ("Content-Length", "2")])
        with pytest.raises(AssertionError, match="werkzeug's path"):
            LeanResponse(b"{}", status=307, headers={"Location": "/x"}).get_wsgi_response(environ)


def test_the_app_answers_with_lean_responses() -> None:
    from mockviking.web.lean import LeanResponse

    app = create_app(Config())
    assert app.response_class is LeanResponse
    with app.test_request_context("/"):
        from mockviking.web.responses import json_response

        assert isinstance(json_response({"a": 1}), LeanResponse)


# -- URL building -----------------------------------------------------------------------------


def _builder_app(cls: type[Flask]) -> Flask:
    app = cls("builds")
    app.add_url_rule("/items/<int:item_id>", "item")
    app.add_url_rule("/files/<path:rest>", "file")
    app.add_url_rule("/pages/", "pages", defaults={"page": 1})
    app.add_url_rule("/pages/<int:page>", "pages")
    app.add_url_rule("/api/v1/sessions/<session_id>/messages", "messages")
    return app


@pytest.mark.parametrize(
    ("endpoint", "values"),
    [
        ("item", {"item_id": 7}),
        ("item", {"item_id": 7, "extra": "q s", "more": ["a", "b"]}),  # unknown values: the query
        ("item", {}),  # missing: BuildError
        ("item", {"item_id": "seven"}),
        ("file", {"rest": "a/b c/ü.txt"}),
        ("pages", {}),
        ("pages", {"page": 1}),
        ("pages", {"page": 3}),
        ("messages", {"session_id": "s/1"}),
        ("nowhere", {}),
    ],
)
def test_urls_are_built_as_flask_builds_them(endpoint: str, values: dict[str, t.Any]) -> None:
    from flask import url_for

    def built(cls: type[Flask]) -> str:
        app = _builder_app(cls)
        with app.test_request_context("/", base_url="http://h.example/root"):
            try:
                return url_for(endpoint, **values) + " " + url_for(endpoint, _external=True, **values)
            except Exception as exc:  # noqa: BLE001 - the comparison is the point
                return f"{type(exc).__name__}: {exc}"

    assert built(LeanFlask) == built(Flask)


def test_url_builders_are_compiled_on_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    from flask import url_for
    from werkzeug.routing import Rule

    compiled: list[str] = []
    real = Rule._compile_builder  # type: ignore[attr-defined]

    def counting(rule: Rule, *args: t.Any, **kwargs: t.Any) -> t.Any:
        compiled.append(rule.rule)
        return real(rule, *args, **kwargs)

    monkeypatch.setattr(Rule, "_compile_builder", counting)
    app = create_app(Config())
    assert compiled == []  # adding the contract's rules compiled no builder
    with app.test_request_context("/"):
        assert url_for("/api/v1/sessions/<session_id>", session_id="s1") == "/api/v1/sessions/s1"
    assert compiled == ["/api/v1/sessions/<session_id>"]
