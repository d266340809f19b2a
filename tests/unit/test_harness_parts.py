"""Clock, journal, fault rules and the state file, without HTTP."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from mockviking.contract.decoding import nesting_exceeds
from mockviking.domain.clock import Clock
from mockviking.domain.messages import drafts_from_request
from mockviking.domain.owners import Owner
from mockviking.domain.store import SessionStore
from mockviking.harness.faults import FaultSet
from mockviking.harness.journal import Journal, RecordedRequest, RequestFilter, environ_headers, redact_headers
from mockviking.harness.persistence import StateFile, StateFileError
from mockviking.web.errors import STATUS


def test_clock_freezes_advances_and_resumes() -> None:
    clock = Clock()
    at = dt.datetime(2026, 3, 23, 10, tzinfo=dt.timezone.utc)
    assert clock.freeze(at) == at
    assert clock() == at
    assert clock.advance(90) == at + dt.timedelta(seconds=90)
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="timezone"):
        clock.freeze(dt.datetime(2026, 1, 1))
    clock.resume()
    assert not clock.frozen
    assert abs((clock() - dt.datetime.now(dt.timezone.utc)).total_seconds()) < 5


def entry(seq: int, method: str, path: str, status: int = 200, body: object = None) -> RecordedRequest:
    raw = json.dumps(body).encode() if body is not None else b""
    return RecordedRequest(seq, dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), method, path, "", (), (), raw,
                           "application/json", status, None, None, None, None, None, 0.0)


def test_journal_assertions_show_near_misses() -> None:
    journal = Journal(limit=10)
    journal.add(entry(1, "POST", "/api/v1/sessions/s/messages", body={"role": "user"}))
    journal.add(entry(2, "GET", "/api/v1/sessions/s"))
    assert len(journal.assert_called(RequestFilter(method="post", path="/api/v1/sessions/*/messages"), 1)) == 1
    assert journal.entries(RequestFilter(body={"role": "user"}))[0].seq == 1
    with pytest.raises(AssertionError) as caught:
        journal.assert_called(RequestFilter(method="POST", path="/api/v1/sessions/*/commit"))
    message = str(caught.value)
    assert "found 0" in message
    assert message.index("#1 POST /api/v1/sessions/s/messages") < message.index("#2 GET")  # closest first
    with pytest.raises(AssertionError, match="the journal is empty"):
        Journal().assert_called(RequestFilter(method="GET"))


def test_headers_are_redacted() -> None:
    headers = redact_headers([("X-API-Key", "k"), ("Authorization", "Bearer k"), ("Accept", "*/*")])
    assert headers == {"X-API-Key": "[REDACTED]", "Authorization": "[REDACTED]", "Accept": "*/*"}


def recorded_headers(environ: dict[str, object]) -> dict[str, str]:
    keys, values = environ_headers(environ)
    recorded = RecordedRequest(1, dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), "GET", "/", "", keys, values,
                               b"", None, 200, None, None, None, None, None, 0.0)
    return recorded.headers


@pytest.mark.parametrize(("environ", "expected"), [
    ({"PATH_INFO": "/", "HTTP_HOST": "a", "wsgi.input": object(), "HTTP_X_API_KEY": "k", "CONTENT_TYPE": "x/y"},
     {"Host": "a", "X-Api-Key": "[REDACTED]", "Content-Type": "x/y"}),
    # The same keys again, other values: the shape is remembered, the values are not.
    ({"PATH_INFO": "/", "HTTP_HOST": "b", "wsgi.input": object(), "HTTP_X_API_KEY": "", "CONTENT_TYPE": ""},
     {"Host": "b", "X-Api-Key": "[REDACTED]"}),
    ({"PATH_INFO": "/"}, {}),
    ({"HTTP_X_ONE": "a\0b", "HTTP_X_TWO": "c"}, {"X-One": "a\0b", "X-Two": "c"}),
    ({"HTTP_X_ONE": "", "HTTP_X_TWO": ""}, {"X-One": "", "X-Two": ""}),
    ({"HTTP_X_NUMBER": 7, "CONTENT_LENGTH": "3"}, {"X-Number": "7", "Content-Length": "3"}),
])
def test_recorded_headers_come_back_as_sent(environ: dict[str, object], expected: dict[str, str]) -> None:
    assert recorded_headers(environ) == expected


def test_fault_rule_matching_and_counting() -> None:
    faults = FaultSet()
    faults.add(method="GET", path="/api/v1/sessions/*", user_id="bob", error="UNAVAILABLE", times=2)
    assert faults.decide("GET", "/api/v1/sessions/s", "default", "alice") is None
    assert faults.decide("POST", "/api/v1/sessions/s", "default", "bob") is None
    fired = [faults.decide("GET", "/api/v1/sessions/s", "default", "bob") for _ in range(3)]
    assert [f is not None for f in fired] == [True, True, False]
    assert fired[0] is not None
    assert fired[0].error == "UNAVAILABLE"
    assert STATUS[fired[0].error] == 503
    with pytest.raises(ValueError, match="unknown fault rule field"):
        faults.add(path="/x", error="INTERNAL", fired=3)


def test_nesting_limit() -> None:
    assert not nesting_exceeds({"a": [1, {"b": 2}]}, 3)
    assert nesting_exceeds({"a": [1, {"b": []}]}, 3)
    assert not nesting_exceeds("text", 0)


def test_state_file_round_trip_and_refusals(tmp_path: Path) -> None:
    store = SessionStore(seed=1)
    store.user_key("acme", "alice")
    store.add_messages(Owner("acme", "alice"), "s", drafts_from_request({"role": "user", "content": "hi"}))
    path = tmp_path / "state.json"
    StateFile(path).save(store)
    assert not list(tmp_path.glob(".state.json.*"))  # no temporary file left behind
    restored = SessionStore()
    assert StateFile(path).restore(restored)
    assert restored.get_session(Owner("acme", "alice"), "s").message_count == 1  # type: ignore[union-attr]
    restored.reset()  # the restored state is the baseline
    assert restored.get_session(Owner("acme", "alice"), "s") is not None
    assert not StateFile(tmp_path / "absent.json").restore(SessionStore())
    (tmp_path / "bad.json").write_text(json.dumps({"format": "mockviking-state", "version": 99}))
    with pytest.raises(StateFileError, match="unsupported mockviking-state version 99"):
        StateFile(tmp_path / "bad.json").restore(SessionStore())
    with pytest.raises(StateFileError, match="does not exist"):
        StateFile(tmp_path / "nope" / "state.json").check_writable()


def test_a_seeded_server_restarted_from_its_state_file_hands_out_new_ids(tmp_path: Path) -> None:
    """Issue 18, finding 5: the generator's position is saved, so ids never repeat after a restart."""
    from mockviking import Config, create_app

    config = Config(seed=7, state_file=str(tmp_path / "state.json"))
    headers = {"X-API-Key": "alice-secret-key-0001"}
    seen_messages: list[str] = []
    seen_tasks: list[str] = []
    for _run in range(3):  # three lives of the same server, each restored from the file
        app = create_app(config)
        client = app.test_client()
        for n in range(3):
            assert client.post("/api/v1/sessions/restart/messages", headers=headers,
                               json={"role": "user", "content": f"hello {n}"}).status_code == 200
        commit = client.post("/api/v1/sessions/restart/commit", headers=headers, json={}).get_json()
        seen_tasks.append(commit["result"]["task_id"])
        store = app.extensions["mockviking"].store
        session = store.get_session(Owner("default", "alice"), "restart")
        seen_messages += [m.id for m in session.archives[-1].messages]  # this life's three
    assert len(set(seen_tasks)) == 3, seen_tasks
    assert len(seen_messages) == len(set(seen_messages)) == 9, seen_messages
    assert len(create_app(config).extensions["mockviking"].store.list_tasks(None)) == 3
