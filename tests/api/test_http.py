"""Routing, envelopes, headers and malformed requests: never a 500, never HTML."""

from __future__ import annotations

import re
import typing as t

import pytest
from flask import Flask

from mockviking import Config, create_app

from .conftest import ALICE, Client, error, ok

NOT_FOUND = {"status": "error", "error": {"code": "NOT_FOUND", "message": "Not Found"}}
NOT_ALLOWED = {"status": "error", "error": {"code": "UNKNOWN", "message": "Method Not Allowed"}}


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/sessions/s1/nope", "/", "/api/v1/sessions/a/b/c"])
def test_unknown_route(client: Client, path: str) -> None:
    response = client.get(path, headers=ALICE)
    assert response.status_code == 404
    assert response.get_json() == NOT_FOUND


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/api/v1/sessions/s1", "GET, DELETE"),
        ("PATCH", "/api/v1/sessions/s1", "GET, DELETE"),
        ("POST", "/api/v1/sessions/s1", "GET, DELETE"),
        ("OPTIONS", "/api/v1/sessions/s1", "GET, DELETE"),
        ("TRACE", "/api/v1/sessions/s1", "GET, DELETE"),
        ("DELETE", "/api/v1/sessions", "POST, GET"),
        ("GET", "/api/v1/sessions/s1/messages", "POST"),
        ("GET", "/api/v1/sessions/s1/messages/batch", "POST"),
        ("POST", "/health", "GET"),
    ],
)
def test_wrong_method(client: Client, method: str, path: str, allow: str) -> None:
    response = client.open(path, method=method, headers=ALICE)
    assert response.status_code == 405
    assert response.headers["Allow"] == allow
    assert response.get_json() == NOT_ALLOWED


def test_head_is_not_allowed_either(client: Client) -> None:
    response = client.head("/api/v1/sessions/s1", headers=ALICE)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, DELETE"
    assert response.data == b""


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/api/v1/sessions/", "/api/v1/sessions"),
        ("/api/v1/sessions/s1/", "/api/v1/sessions/s1"),
        ("/api/v1/sessions/s1/?auto_create=true", "/api/v1/sessions/s1?auto_create=true"),
    ],
)
def test_trailing_slash_redirects(client: Client, origin: str, path: str, location: str) -> None:
    # Absolute, on the host the request came to: http://localhost in-process, the server's
    # address and port over a socket.
    response = client.get(path, headers=ALICE)
    assert response.status_code == 307
    assert response.headers["Location"] == origin + location
    assert response.data == b""
    assert "Content-Type" not in response.headers


def test_response_headers(client: Client) -> None:
    response = client.get("/api/v1/sessions/a1b2c3d4", headers=ALICE)
    assert response.headers["Content-Type"] == "application/json"
    assert re.fullmatch(r"[0-9a-f-]{36}", response.headers["X-Request-ID"])
    float(response.headers["X-Process-Time"])


@pytest.mark.parametrize(
    ("sent", "echoed"),
    [(["abc-123"], True), (["a/b:c.d_e"], True), (["bad id!"], False), (["x" * 129], False), (["a", "b"], False)],
)
def test_request_id(client: Client, sent: list[str], echoed: bool) -> None:
    headers = [("X-Request-ID", value) for value in sent] + list(ALICE.items())
    response = client.get("/api/v1/sessions/a1b2c3d4", headers=headers)
    assert response.status_code == 200  # a bad id is replaced, never refused
    assert (response.headers["X-Request-ID"] == sent[0]) is echoed


def test_body_is_compact_and_keeps_non_ascii(client: Client) -> None:
    ok(client.post("/api/v1/sessions", headers=ALICE, json={"session_id": "日本語"}))
    raw = client.get("/api/v1/sessions/%E6%97%A5%E6%9C%AC%E8%AA%9E", headers=ALICE).get_data(as_text=True)
    assert raw.startswith('{"status":"ok","result":{"session_id":"日本語",')


@pytest.mark.parametrize(
    ("data", "content_type", "message"),
    [
        (b"not-json", "application/json", "Invalid request parameters: body.0: JSON decode error"),
        (b'{"role":"user",', "application/json", "Invalid request parameters: body.15: JSON decode error"),
        (b'{"role":"user","content":"\xff"}', "application/json", "There was an error parsing the body"),
        (b"[" * 3000 + b"]" * 3000, "application/json", "There was an error parsing the body"),
        (b'{"role":"user","content":"x"}', None,
         "Invalid request parameters: body: Input should be a valid dictionary or object to extract fields from"),
        (b'{"role":"user","content":"x"}', "text/plain",
         "Invalid request parameters: body: Input should be a valid dictionary or object to extract fields from"),
        (b"", "application/json", "Invalid request parameters: body: Field required"),
        (b"\x00\x01\x02", "application/octet-stream",
         "Invalid request parameters: body: Input should be a valid dictionary or object to extract fields from"),
    ],
)
def test_malformed_bodies(client: Client, data: bytes, content_type: str | None, message: str) -> None:
    headers = dict(ALICE)
    if content_type:
        headers["Content-Type"] = content_type
    response = client.post("/api/v1/sessions/m/messages", headers=headers, data=data)
    err = error(response, 400, "INVALID_ARGUMENT")
    assert err["message"] == message
    assert "result" not in response.get_json()  # the route-level shape


@pytest.mark.parametrize(
    ("token", "where"),
    [
        ("NaN", '"tool_input":{"x":NaN}'),
        ("Infinity", '"duration_ms":Infinity'),
        ("-Infinity", '"tool_input":{"x":[1,-Infinity]}'),
        ("1e999", '"tool_input":{"x":1e999}'),  # beyond the float range: Python makes it infinity
    ],
)
def test_numbers_no_answer_could_carry_are_refused(client: Client, token: str, where: str) -> None:
    # Python's JSON parser accepts them; stored, they made every later answer holding the
    # message fail to encode (a 500).
    body = '{"role":"user","parts":[{"type":"tool","tool_id":"t",' + where + "}]}"
    response = client.post("/api/v1/sessions/nan/messages", headers={**ALICE, "Content-Type": "application/json"},
                           data=body.encode())
    err = error(response, 400, "INVALID_ARGUMENT")
    assert err["message"].startswith(f"The JSON body holds {token}: NaN, Infinity and numbers beyond")
    assert client.get("/api/v1/sessions/nan", headers=ALICE).status_code == 404  # nothing stored
    fine = body.replace(token, "1.5e300")
    assert client.post("/api/v1/sessions/nan/messages", headers={**ALICE, "Content-Type": "application/json"},
                       data=fine.encode()).status_code == 200
    assert client.get("/api/v1/sessions/nan/context", headers=ALICE).status_code == 200


@pytest.mark.parametrize("value", [".nan", ".NaN", ".inf", "-.Inf", "+.INF"])
def test_yaml_numbers_no_answer_could_carry_are_refused(client: Client, value: str) -> None:
    fixture = (
        "sessions:\n- session_id: y\n  user_id: alice\n  messages:\n  - role: user\n"
        f"    parts: [{{type: tool, tool_id: t, tool_input: {{a: {value}}}}}]\n"
    )
    response = client.post("/_mockviking/fixtures", data=fixture.encode(), headers={"Content-Type": "application/yaml"})
    err = error(response, 400, "INVALID_ARGUMENT")
    assert "is not a number JSON can carry" in err["message"]
    ok_fixture = fixture.replace(value, "1.5")
    assert client.post("/_mockviking/fixtures", data=ok_fixture.encode(),
                       headers={"Content-Type": "application/yaml"}).status_code == 200


def test_json_decode_error_comes_before_auth(client: Client) -> None:
    response = client.post("/api/v1/sessions/m/messages", data=b"{", content_type="application/json")
    error(response, 400, "INVALID_ARGUMENT")
    missing_role = client.post("/api/v1/sessions/m/messages", json={})
    error(missing_role, 401, "UNAUTHENTICATED")  # but auth comes before field validation


def test_too_large_body_is_413_in_the_envelope(client_for: t.Callable[[Flask], Client]) -> None:
    client = client_for(create_app(Config(max_body_bytes=1024)))
    response = client.post("/api/v1/sessions/m/messages", headers=ALICE,
                           json={"role": "user", "content": "x" * 2000})
    err = error(response, 413, "UNKNOWN")
    assert "at most 1024 bytes" in err["message"]


@pytest.mark.parametrize(
    ("telemetry", "expected"),
    [(True, True), ({"summary": True}, True), (False, False), ({"summary": False}, False)],
)
def test_telemetry(client: Client, telemetry: t.Any, expected: bool) -> None:
    body = client.post("/api/v1/sessions/t/messages", headers=ALICE,
                       json={"role": "user", "content": "x", "telemetry": telemetry}).get_json()
    if expected:
        assert re.fullmatch(r"tm_[0-9a-f]{32}", body["telemetry"]["id"])
        assert body["telemetry"]["summary"]["operation"] == "session.add_message"
        assert body["telemetry"]["summary"]["status"] == "ok"
    else:
        assert body["telemetry"] is None


def test_telemetry_unknown_option(client: Client) -> None:
    response = client.post("/api/v1/sessions/t/messages", headers=ALICE,
                           json={"role": "user", "content": "x", "telemetry": {"bogus": True, "alpha": True}})
    err = error(response, 400, "INVALID_ARGUMENT")
    assert err == {"code": "INVALID_ARGUMENT", "message": "Unsupported telemetry options: alpha, bogus",
                   "details": {}}
    error(client.get("/api/v1/sessions/t", headers=ALICE), 404, "NOT_FOUND")  # nothing stored


def test_an_internal_error_is_an_envelope_and_is_recorded(
    app: Flask, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = app.extensions["mockviking"].store

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(store, "list_sessions", broken)
    response = client.get("/api/v1/sessions", headers=ALICE)
    assert response.status_code == 500
    assert response.get_json() == {
        "status": "error", "result": None,
        "error": {"code": "INTERNAL", "message": "Internal server error", "details": None},
        "telemetry": None, "profile": None,
    }
    recorded = app.extensions["mockviking"].errors
    assert len(recorded) == 1
    assert str(recorded[0]) == "boom"


def test_no_cookie_sessions(app: Flask, client: Client) -> None:
    # The app shares one null session between requests: it refuses writes as Flask's own
    # does, and nothing about cookies reaches an answer.
    from flask import session

    client.set_cookie("session", "whatever")
    response = client.get("/api/v1/sessions/a1b2c3d4", headers=ALICE)
    assert "Set-Cookie" not in response.headers
    assert "Vary" not in response.headers
    with app.test_request_context("/"):
        assert session.get("user") is None
        with pytest.raises(RuntimeError, match="secret key"):
            session["user"] = "alice"


#: What waitress adds to every answer over a socket (``Server`` is its ``ident``).
SOCKET_ONLY_HEADERS = {"date", "server"}
#: Different on every answer, whichever the transport.
PER_ANSWER_HEADERS = {"x-request-id", "x-process-time"}


@pytest.mark.parametrize(
    ("method", "path", "headers", "body"),
    [
        ("GET", "/health", {}, None),
        ("GET", "/health", ALICE, None),
        ("GET", "/api/v1/sessions/missing", ALICE, None),
        ("HEAD", "/api/v1/sessions/s1", ALICE, None),
        ("OPTIONS", "/api/v1/sessions/s1", ALICE, None),
        ("GET", "/api/v1/sessions/s1/", ALICE, None),
        ("GET", "/api/v1/sessions/a%2Fb", ALICE, None),
        ("POST", "/api/v1/sessions/m/messages", {**ALICE, "Content-Type": "application/json"}, b"{"),
        ("POST", "/api/v1/sessions/m/messages", {**ALICE, "Content-Type": "application/json"},
         b'{"role":"user","content":"' + b"x" * 2000 + b'"}'),
        ("DELETE", "/api/v1/sessions/nope", ALICE, None),
    ],
    ids=["health", "health-alice", "get-404", "head", "options", "redirect", "encoded-slash", "bad-json", "too-large",
         "delete-404"],
)
def test_a_socket_changes_nothing_but_the_servers_own_headers(
    contract: t.Any, live_switch: t.Any, method: str, path: str, headers: dict[str, str], body: bytes | None
) -> None:
    # Twin apps, one per transport: the status, the body and every header the app set must
    # match; header names compare case-insensitively (waitress sends "X-Request-Id"). The
    # requests are ones whose answers hold no time of day.
    from tests._support.transport import LiveClient

    switch, url = live_switch
    inprocess = create_app(Config(seed=1, max_body_bytes=1024), contract=contract).test_client()
    token = switch.register(create_app(Config(seed=1, max_body_bytes=1024), contract=contract))
    try:
        live = LiveClient(url, token)
        here = inprocess.open(path, method=method, headers=headers, data=body)
        there = live.open(path, method=method, headers=headers, data=body)
    finally:
        switch.unregister(token)

    def app_headers(response: t.Any, origin: str) -> dict[str, str]:
        return {k.lower(): v.replace(origin, "<origin>") for k, v in response.headers.items()
                if k.lower() not in PER_ANSWER_HEADERS | SOCKET_ONLY_HEADERS}

    assert there.status_code == here.status_code
    assert there.get_data() == here.get_data()
    assert app_headers(there, url) == app_headers(here, "http://localhost")
    names = [{k.lower() for k, _ in response.headers.items()} for response in (there, here)]
    assert names[0] - names[1] == SOCKET_ONLY_HEADERS
