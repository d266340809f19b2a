"""The official SDK against the plugin's server: setup, journal assertions and fault rules.

These tests use the plugin's own ``mockviking`` fixture directly (it is installed through
its ``pytest11`` entry point), as a user's test suite would.
"""

from __future__ import annotations

import json
import time
import typing as t

import httpx
import pytest
from openviking_sdk import OpenVikingError, SyncHTTPClient
from openviking_sdk.errors import InternalError, UnavailableError

from mockviking.testing import MockVikingHandle
from tests._support import sdk_client, sdk_clients

MESSAGES = "/api/v1/sessions/*/messages"


@pytest.fixture
def client_for(
    mockviking: MockVikingHandle, hermetic_sdk: None
) -> t.Iterator[t.Callable[[str, str], SyncHTTPClient]]:
    """``client_for(account, user)``: an initialized SDK client of that user, closed afterwards."""
    with sdk_clients(mockviking.url) as make:

        def client_for(account_id: str, user_id: str) -> SyncHTTPClient:
            return make(mockviking.key_for(account_id, user_id))

        yield client_for


def add(client: SyncHTTPClient, n: int, session_id: str = "s1") -> t.Any:
    return client.add_message(session_id, "user", f"message {n}")


def test_the_three_line_sdk_setup(mockviking: MockVikingHandle, hermetic_sdk: None) -> None:
    client = SyncHTTPClient(url=mockviking.url, api_key=mockviking.key_for("acme", "dana"))
    client.initialize()
    try:
        result = client.add_message("dana-session", "user", "Hello from the SDK")
    finally:
        client.close()
    assert result["session_id"] == "dana-session"
    assert result["message_count"] == 1

    [entry] = mockviking.assert_called(method="POST", path=MESSAGES, times=1)
    assert entry.path == "/api/v1/sessions/dana-session/messages"
    assert entry.status == 200
    assert (entry.account_id, entry.user_id) == ("acme", "dana")
    assert entry.body == {"role": "user", "content": "Hello from the SDK"}
    assert {k.lower(): v for k, v in entry.headers.items()}["x-api-key"] == "[REDACTED]"
    mockviking.assert_called(method="post", path=MESSAGES, account_id="acme", user_id="dana",
                             body={"content": "Hello from the SDK"}, times=1)
    mockviking.assert_not_called(method="DELETE")
    session = mockviking.session("dana-session", "acme", "dana")
    assert session is not None
    assert [m.parts for m in session.messages] == [[{"type": "text", "text": "Hello from the SDK"}]]


def test_a_wrong_expectation_lists_the_near_misses(
    mockviking: MockVikingHandle, client_for: t.Callable[[str, str], SyncHTTPClient]
) -> None:
    client = client_for("acme", "dana")
    client.create_session("s1")
    add(client, 1)
    client.get_session("s1")

    with pytest.raises(AssertionError) as too_few:
        mockviking.assert_called(method="POST", path=MESSAGES, times=2)
    text = str(too_few.value)
    assert text.startswith(
        "expected a request matching method='POST', path='/api/v1/sessions/*/messages' 2 time(s), found 1"
    ), text
    assert "  matched: #" in text
    assert "POST /api/v1/sessions/s1/messages" in text

    with pytest.raises(AssertionError) as wrong_method:
        mockviking.assert_called(method="PUT", path=MESSAGES)
    lines = str(wrong_method.value).splitlines()
    assert lines[0] == (
        "expected a request matching method='PUT', path='/api/v1/sessions/*/messages' at least once, found 0"
    )
    assert lines[1] == "closest other requests:"
    # the best near miss (same path) comes first, then the others
    assert lines[2].endswith("POST /api/v1/sessions/s1/messages (add_message) -> 200"), lines
    assert {line.split(" ", 3)[-1] for line in lines[3:]} == {
        "POST /api/v1/sessions (create_session) -> 200",
        "GET /api/v1/sessions/s1 (get_session) -> 200",
    }, lines

    with pytest.raises(AssertionError, match="closest other requests:"):
        mockviking.assert_not_called(path=MESSAGES)


def test_an_empty_journal_says_so(mockviking: MockVikingHandle) -> None:
    with pytest.raises(AssertionError, match="the journal is empty"):
        mockviking.assert_called(method="POST")


# -- faults, as the SDK sees them ----------------------------------------------------------------


def test_unavailable_hits_exactly_the_targeted_call(
    mockviking: MockVikingHandle, client_for: t.Callable[[str, str], SyncHTTPClient]
) -> None:
    client = client_for("acme", "dana")
    rule = mockviking.fault(method="POST", path=MESSAGES, after=2, times=1, error="UNAVAILABLE")
    assert add(client, 1)["message_count"] == 1
    assert add(client, 2)["message_count"] == 2
    with pytest.raises(UnavailableError) as caught:
        add(client, 3)
    assert type(caught.value) is UnavailableError
    assert caught.value.code == "UNAVAILABLE"
    assert add(client, 4)["message_count"] == 3
    assert add(client, 5)["message_count"] == 4

    statuses = [(r.status, r.fault) for r in mockviking.requests(path=MESSAGES)]
    assert statuses == [(200, None), (200, None), (503, f"{rule.id}:error"), (200, None), (200, None)]
    assert (rule.matched, rule.fired) == (5, 1)
    session = mockviking.session("s1", "acme", "dana")
    assert session is not None
    assert [m.parts[0]["text"] for m in session.messages] == ["message 1", "message 2", "message 4", "message 5"]


def test_internal_becomes_internal_error(
    mockviking: MockVikingHandle, client_for: t.Callable[[str, str], SyncHTTPClient]
) -> None:
    client = client_for("acme", "dana")
    mockviking.fault(path=MESSAGES, error="INTERNAL", message="disk on fire", times=1)
    with pytest.raises(InternalError) as caught:
        add(client, 1)
    assert type(caught.value) is InternalError
    assert caught.value.code == "INTERNAL"
    assert "disk on fire" in str(caught.value)
    assert add(client, 2)["message_count"] == 1
    # an injected error is not a mockviking failure: this test's teardown passes
    assert mockviking.harness.errors == []


def test_a_delay_slows_the_call_down(
    mockviking: MockVikingHandle, client_for: t.Callable[[str, str], SyncHTTPClient]
) -> None:
    client = client_for("acme", "dana")
    add(client, 0)  # the connection is open: the timings below are the server's
    rule = mockviking.fault(path=MESSAGES, delay_ms=300, times=1)
    started = time.perf_counter()
    assert add(client, 1)["message_count"] == 2  # a delay alone still answers normally
    assert time.perf_counter() - started >= 0.3
    add(client, 2)  # times=1: only the one call was slowed down
    assert [r.fault for r in mockviking.requests(path=MESSAGES)] == [None, f"{rule.id}:delay", None]


def test_drop_is_a_transport_error_in_the_sdk(
    mockviking: MockVikingHandle, client_for: t.Callable[[str, str], SyncHTTPClient]
) -> None:
    client = client_for("acme", "dana")
    rule = mockviking.fault(path=MESSAGES, drop=True, times=1)
    # The SDK does not wrap transport errors: httpx's own exception reaches the caller.
    with pytest.raises(httpx.RemoteProtocolError) as caught:
        add(client, 1)
    assert not isinstance(caught.value, OpenVikingError)
    assert isinstance(caught.value, httpx.TransportError)
    assert "peer closed connection without sending complete message body" in str(caught.value)
    [dropped] = mockviking.requests(path=MESSAGES)
    assert (dropped.status, dropped.fault) == (200, f"{rule.id}:drop")
    # The next call gets through on a fresh connection. The cut answer's write did happen, as
    # when a network drops a reply the server already sent: a retry would store it twice.
    assert add(client, 2)["message_count"] == 2
    assert mockviking.requests(path=MESSAGES)[-1].fault is None


def test_malformed_json_on_200_is_an_empty_dict_in_the_sdk(
    mockviking: MockVikingHandle, client_for: t.Callable[[str, str], SyncHTTPClient]
) -> None:
    client = client_for("acme", "dana")
    mockviking.fault(path=MESSAGES, malformed=True, times=1)
    assert add(client, 1) == {}  # silently, as real-server.md section 2 says
    # The write behind the garbled answer did happen.
    assert add(client, 2)["message_count"] == 2
    mockviking.fault(path=MESSAGES, malformed=True, times=1)
    garbled = httpx.post(f"{mockviking.url}/api/v1/sessions/s1/messages",
                         json={"role": "user", "content": "raw"},
                         headers={"X-API-Key": mockviking.key_for("acme", "dana")})
    assert garbled.status_code == 200
    assert garbled.headers["Content-Type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        garbled.json()


def failure_indexes(mockviking: MockVikingHandle, client: SyncHTTPClient, seed: int) -> list[int]:
    mockviking.fault(path=MESSAGES, error="UNAVAILABLE", probability=0.5, seed=seed)
    failed = []
    for n in range(20):
        try:
            add(client, n)
        except UnavailableError:
            failed.append(n)
    return failed


def test_a_seeded_probability_fails_the_same_calls_every_run(
    mockviking: MockVikingHandle, client_for: t.Callable[[str, str], SyncHTTPClient]
) -> None:
    client = client_for("acme", "dana")
    first = failure_indexes(mockviking, client, seed=42)
    assert 0 < len(first) < 20, first  # some fail, some pass

    mockviking.reset()
    client = client_for("acme", "dana")  # reset made the key anew
    second = failure_indexes(mockviking, client, seed=42)
    assert second == first

    mockviking.reset()
    client = client_for("acme", "dana")
    other_seed = failure_indexes(mockviking, client, seed=43)
    assert other_seed != first


def test_the_same_seed_reproduces_on_an_independent_server(
    mockviking: MockVikingHandle, client_for: t.Callable[[str, str], SyncHTTPClient]
) -> None:
    from mockviking import Config, create_app
    from mockviking.serving.waitress_server import MockVikingServer
    from mockviking.web.app import EXTENSION

    first = failure_indexes(mockviking, client_for("acme", "dana"), seed=42)
    with MockVikingServer(create_app(Config())) as server:
        other = MockVikingHandle(server, server.app.extensions[EXTENSION])
        client = sdk_client(other.url, api_key=other.key_for("acme", "dana"))
        try:
            second = failure_indexes(other, client, seed=42)
        finally:
            client.close()
    assert second == first


def test_identity_matched_faults_fail_only_that_user(
    mockviking: MockVikingHandle, client_for: t.Callable[[str, str], SyncHTTPClient]
) -> None:
    alice = client_for("default", "alice")
    bob = client_for("default", "bob")
    mockviking.fault(path="/api/v1/sessions*", user_id="bob", error="UNAVAILABLE")
    for n in range(3):
        with pytest.raises(UnavailableError):
            add(bob, n, "bob-session")
        assert add(alice, n, "alice-session")["message_count"] == n + 1
    with pytest.raises(UnavailableError):
        bob.list_sessions()
    assert {s["session_id"] for s in alice.list_sessions()} >= {"alice-session", "a1b2c3d4"}
    assert mockviking.session("bob-session", "default", "bob") is None
    assert len(mockviking.requests(status=503)) == 4
    assert {r.user_id for r in mockviking.requests(status=200)} == {"alice"}


def test_the_journal_names_the_caller_of_a_faulted_request(
    mockviking: MockVikingHandle, client_for: t.Callable[[str, str], SyncHTTPClient]
) -> None:
    """The rule matched bob, so the journal entry of his failed call must say it was bob."""
    bob = client_for("default", "bob")
    mockviking.fault(path=MESSAGES, user_id="bob", error="UNAVAILABLE", times=1)
    with pytest.raises(UnavailableError):
        add(bob, 1)
    [entry] = mockviking.requests(path=MESSAGES)
    assert entry.status == 503
    assert (entry.account_id, entry.user_id) == ("default", "bob")
    mockviking.assert_called(path=MESSAGES, user_id="bob", status=503, times=1)


def test_account_matched_faults_fail_only_that_account(
    mockviking: MockVikingHandle, client_for: t.Callable[[str, str], SyncHTTPClient]
) -> None:
    acme_bob = client_for("acme", "bob")
    default_bob = client_for("default", "bob")
    mockviking.fault(path=MESSAGES, account_id="acme", user_id="bob", error="INTERNAL")
    with pytest.raises(InternalError):
        add(acme_bob, 1)
    assert add(default_bob, 1)["message_count"] == 1
