"""The control API (/_mockviking): reset, seed, state, journal, faults, tasks, clock, keys."""

from __future__ import annotations

import json
import typing as t

import pytest
from flask import Flask

from mockviking import Config, create_app

from .conftest import ALICE, ALICE_KEY, Client, error, ok

ADD = "/api/v1/sessions/c/messages"


def add(client: Client, text: str = "hi", session: str = "c") -> t.Any:
    return client.post(f"/api/v1/sessions/{session}/messages", headers=ALICE, json={"role": "user", "content": text})


def test_reset_returns_to_the_fixtures(client: Client) -> None:
    ok(add(client))
    ok(client.delete("/api/v1/sessions/a1b2c3d4", headers=ALICE))
    ok(client.post("/_mockviking/faults", json={"path": "/nothing", "error": "INTERNAL"}))
    assert ok(client.post("/_mockviking/reset")) == {"done": True}
    assert {s["session_id"] for s in ok(client.get("/api/v1/sessions", headers=ALICE))} == {"a1b2c3d4", "tool-demo"}
    assert ok(client.get("/_mockviking/faults")) == []
    assert [r["path"] for r in ok(client.get("/_mockviking/requests"))] == ["/api/v1/sessions"]


def test_load_fixtures_yaml_and_json_and_baseline(client: Client) -> None:
    yaml_doc = (
        "sessions:\n"
        "  - {account_id: default, user_id: alice, session_id: from-yaml, messages: [{role: user, content: yo}]}\n"
    )
    result = ok(client.post("/_mockviking/fixtures", data=yaml_doc, content_type="application/yaml"))
    assert result == {"done": True, "sessions": 1}
    ok(client.post("/_mockviking/fixtures?baseline=true", json={"sessions": [
        {"account_id": "default", "user_id": "alice", "session_id": "from-json"}]}))
    ok(client.post("/_mockviking/reset"))
    ids = {s["session_id"] for s in ok(client.get("/api/v1/sessions", headers=ALICE))}
    assert {"from-yaml", "from-json"} <= ids  # the baseline now includes both loads


@pytest.mark.parametrize(
    ("data", "content_type", "message"),
    [
        ("sessions: [", "application/yaml", "The body is not valid YAML"),
        ('{"sessions": [{"session_id": "z", "messages": [{"content": "x"}]}]}', "application/json",
         "request body: sessions[0] ('z'): sessions.0.messages.0.role: Field required"),
        ('{"bogus": 1}', "application/json", "request body: file: bogus: Extra inputs are not permitted"),
    ],
)
def test_load_fixtures_refuses_bad_documents(client: Client, data: str, content_type: str, message: str) -> None:
    err = error(client.post("/_mockviking/fixtures", data=data, content_type=content_type), 400, "INVALID_ARGUMENT")
    assert err["message"].startswith(message)


def test_state_round_trip(client: Client, contract: t.Any, client_for: t.Callable[[Flask], Client]) -> None:
    ok(add(client, "hello"))
    assert client.post("/api/v1/sessions/c/commit", headers=ALICE, json={}).status_code == 200
    exported = ok(client.get("/_mockviking/state"))
    assert exported["format"] == "mockviking-state"
    assert exported["version"] == 2
    other = client_for(create_app(Config(fixtures=()), contract=contract))
    ok(other.put("/_mockviking/state", json=exported))
    assert ok(other.get("/_mockviking/state")) == exported
    assert ok(other.get("/api/v1/sessions/c", headers=ALICE)) == ok(client.get("/api/v1/sessions/c", headers=ALICE))
    archive = ok(other.get("/api/v1/sessions/c/archives/archive_001", headers=ALICE))
    assert archive["messages"][0]["parts"][0]["text"] == "hello"


def test_state_import_refuses_other_documents(client: Client) -> None:
    err = error(client.put("/_mockviking/state", json={"format": "x"}), 400, "INVALID_ARGUMENT")
    assert ["body", "format"] in [e["loc"] for e in err["details"]["validation_errors"]]
    exported = ok(client.get("/_mockviking/state"))
    exported["sessions"] = [{"session_id": "incomplete"}]
    err = error(client.put("/_mockviking/state", json=exported), 400, "INVALID_ARGUMENT")
    assert err["message"].startswith("not a mockviking-state document")
    assert ok(client.get("/api/v1/sessions/a1b2c3d4", headers=ALICE))["message_count"] == 5  # untouched


def test_journal_filters_redacts_and_clears(client: Client) -> None:
    ok(add(client, "one"))
    error(client.get("/api/v1/sessions/missing", headers={"Authorization": f"Bearer {ALICE_KEY}"}),
          404, "NOT_FOUND")
    entries = ok(client.get("/_mockviking/requests"))
    assert [(e["method"], e["status"], e["operation_id"]) for e in entries] == [
        ("POST", 200, "add_message"), ("GET", 404, "get_session")]
    first = entries[0]
    assert first["body"] == {"role": "user", "content": "one"}
    assert first["response"]["result"]["message_count"] == 1
    assert (first["account_id"], first["user_id"]) == ("default", "alice")
    assert first["headers"]["X-Api-Key"] == "[REDACTED]"
    assert entries[1]["headers"]["Authorization"] == "[REDACTED]"
    assert ALICE_KEY not in str(entries)
    assert [e["status"] for e in ok(client.get("/_mockviking/requests?status=404"))] == [404]
    assert len(ok(client.get("/_mockviking/requests?path=/api/v1/sessions/*/messages&method=post"))) == 1
    assert len(ok(client.get("/_mockviking/requests?limit=1"))) == 1
    with_control = ok(client.get("/_mockviking/requests?include_control=true"))
    assert any(e["path"] == "/_mockviking/requests" for e in with_control)
    ok(client.delete("/_mockviking/requests"))
    assert ok(client.get("/_mockviking/requests")) == []


def test_journal_is_bounded(contract: t.Any, client_for: t.Callable[[Flask], Client]) -> None:
    client = client_for(create_app(Config(journal_limit=3), contract=contract))
    for index in range(5):
        ok(add(client, f"m{index}"))
    bodies = [e["body"]["content"] for e in ok(client.get("/_mockviking/requests"))]
    assert bodies == ["m2", "m3", "m4"]


def test_fault_on_the_third_write(client: Client) -> None:
    rule = ok(client.post("/_mockviking/faults", json={
        "method": "POST", "path": "/api/v1/sessions/*/messages", "after": 2, "times": 1, "error": "UNAVAILABLE"}))
    assert (rule["id"], rule["action"]) == ("fault-1", "error")
    statuses = [add(client, str(i)).status_code for i in range(4)]
    assert statuses == [200, 200, 503, 200]
    assert ok(client.get("/api/v1/sessions/c", headers=ALICE))["message_count"] == 3  # the faulted write stored nothing
    stats = ok(client.get("/_mockviking/faults"))[0]
    assert (stats["matched"], stats["fired"]) == (4, 1)
    faulted = [e for e in ok(client.get("/_mockviking/requests")) if e["fault"]]
    assert [e["fault"] for e in faulted] == ["fault-1:error"]


def test_fault_error_envelope_and_custom_message(client: Client) -> None:
    ok(client.post("/_mockviking/faults", json={"path": "/api/v1/sessions", "error": "RESOURCE_EXHAUSTED",
                                               "message": "slow down"}))
    response = client.get("/api/v1/sessions", headers=ALICE)
    assert response.status_code == 429
    assert response.get_json() == {"status": "error", "result": None, "error": {
        "code": "RESOURCE_EXHAUSTED", "message": "slow down", "details": {}}, "telemetry": None, "profile": None}


def test_malformed_fault(client: Client) -> None:
    ok(client.post("/_mockviking/faults", json={"path": "/health", "malformed": True}))
    response = client.get("/health")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    with pytest.raises(ValueError, match="Expecting|Unterminated"):
        json.loads(response.data)


def test_fault_rules_are_reproducible_with_a_seed(client: Client) -> None:
    def run() -> list[int]:
        ok(client.delete("/_mockviking/faults"))
        ok(client.post("/_mockviking/faults", json={"path": "/health", "error": "INTERNAL", "probability": 0.5,
                                                   "seed": 42}))
        return [i for i in range(30) if client.get("/health").status_code == 500]

    first, second = run(), run()
    assert first == second
    assert 5 < len(first) < 25


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"error": "NOPE"}, "Invalid fault rule: unknown error code 'NOPE'"),
        ({"path": "/x"}, "Invalid fault rule: a fault rule needs an action"),
        ({"drop": True, "malformed": True}, "Invalid fault rule: a fault rule takes one action"),
        ({"delay_ms": 10, "delay_max_ms": 5}, "Invalid fault rule: delay_max_ms must not be below delay_ms"),
    ],
)
def test_bad_fault_rules(client: Client, rule: dict[str, t.Any], message: str) -> None:
    err = error(client.post("/_mockviking/faults", json=rule), 400, "INVALID_ARGUMENT")
    assert err["message"].startswith(message)


def test_fault_rule_validation_and_removal(client: Client) -> None:
    err = error(client.post("/_mockviking/faults", json={"probability": 2}), 400, "INVALID_ARGUMENT")
    assert err["details"]["validation_errors"][0]["type"] == "less_than_equal"
    ok(client.post("/_mockviking/faults", json={"id": "mine", "path": "/health", "error": "INTERNAL"}))
    error(client.post("/_mockviking/faults", json={"id": "mine", "path": "/health", "error": "INTERNAL"}),
          400, "INVALID_ARGUMENT")
    ok(client.delete("/_mockviking/faults/mine"))
    error(client.delete("/_mockviking/faults/mine"), 404, "NOT_FOUND")
    assert client.get("/health").status_code == 200


def test_task_controls(client: Client) -> None:
    ok(client.put("/_mockviking/tasks/plan", json={"mode": "release"}))
    ok(add(client))
    task_id = client.post("/api/v1/sessions/c/commit", headers=ALICE).get_json()["result"]["task_id"]
    assert ok(client.get(f"/api/v1/tasks/{task_id}", headers=ALICE))["status"] == "running"
    assert ok(client.post("/_mockviking/tasks/release", json={"task_id": task_id})) == {"done": True, "released": 1}
    assert ok(client.get(f"/api/v1/tasks/{task_id}", headers=ALICE))["status"] == "completed"
    error(client.put("/_mockviking/tasks/plan", json={"mode": "never"}), 400, "INVALID_ARGUMENT")


def test_script_next_commit(client: Client) -> None:
    ok(add(client))
    ok(client.post("/_mockviking/next-commit", json={"account_id": "default", "user_id": "alice",
                                                     "session_id": "c", "fail": "LLM quota exceeded"}))
    task_id = client.post("/api/v1/sessions/c/commit", headers=ALICE).get_json()["result"]["task_id"]
    task = ok(client.get(f"/api/v1/tasks/{task_id}", headers=ALICE))
    assert (task["status"], task["error"]) == ("failed", "LLM quota exceeded")
    err = error(client.post("/_mockviking/next-commit", json={"session_id": "nope", "fail": "x"}), 404, "NOT_FOUND")
    assert err["message"] == "Session not found: nope"


def test_clock(client: Client) -> None:
    state = ok(client.post("/_mockviking/clock/freeze", json={"at": "2026-03-23T10:00:00Z"}))
    assert state == {"now": "2026-03-23T10:00:00+00:00", "frozen": True}
    ok(client.post("/api/v1/sessions", headers=ALICE, json={"session_id": "timed"}))
    assert ok(client.get("/api/v1/sessions/timed", headers=ALICE))["created_at"] == "2026-03-23T10:00:00.000Z"
    assert ok(client.post("/_mockviking/clock/advance", json={"seconds": 90}))["now"] == "2026-03-23T10:01:30+00:00"
    ok(add(client, session="timed"))
    assert ok(client.get("/api/v1/sessions/timed", headers=ALICE))["updated_at"] == "2026-03-23T10:01:30.000Z"
    assert ok(client.post("/_mockviking/clock/resume"))["frozen"] is False
    err = error(client.post("/_mockviking/clock/freeze", json={"at": "2026-03-23T10:00:00"}), 400, "INVALID_ARGUMENT")
    assert "timezone" in err["message"]
    error(client.post("/_mockviking/clock/advance", json={"seconds": -1}), 400, "INVALID_ARGUMENT")
    error(client.post("/_mockviking/clock/freeze", json={"at": "yesterday"}), 400, "INVALID_ARGUMENT")


def test_provision_key(client: Client) -> None:
    result = ok(client.post("/_mockviking/keys", json={"account_id": "newco", "user_id": "nina"}))
    again = ok(client.post("/_mockviking/keys", json={"account_id": "newco", "user_id": "nina"}))
    assert result == again
    assert client.get("/health", headers={"X-API-Key": result["key"]}).get_json()["user_id"] == "nina"
    error(client.post("/_mockviking/keys", json={"account_id": "newco"}), 400, "INVALID_ARGUMENT")


def test_errors_endpoint_lists_server_failures(app: Flask, client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object) -> None:
        raise RuntimeError("kaput")

    monkeypatch.setattr(app.extensions["mockviking"].store, "list_sessions", boom)
    assert client.get("/api/v1/sessions", headers=ALICE).status_code == 500
    assert ok(client.get("/_mockviking/errors")) == ["RuntimeError: kaput"]


def test_control_token(contract: t.Any, client_for: t.Callable[[Flask], Client]) -> None:
    client = client_for(create_app(Config(control_token="s3cret"), contract=contract))
    err = error(client.post("/_mockviking/reset"), 401, "UNAUTHENTICATED")
    assert "X-Mockviking-Control-Token" in err["message"]
    error(client.post("/_mockviking/reset", headers={"X-Mockviking-Control-Token": "wrong"}), 401, "UNAUTHENTICATED")
    ok(client.post("/_mockviking/reset", headers={"X-Mockviking-Control-Token": "s3cret"}))
    assert client.get("/health").status_code == 200  # the OpenViking API needs no control token


def test_control_routes_are_validated_and_405(client: Client) -> None:
    response = client.get("/_mockviking/reset")
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    err = error(client.get("/_mockviking/requests?status=abc"), 400, "INVALID_ARGUMENT")
    assert err["details"]["validation_errors"][0]["loc"] == ["query", "status"]
