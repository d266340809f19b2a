"""Every request that breaks the contract is recorded with what was wrong."""

from __future__ import annotations

import json

from flask import Flask

from mockviking.harness.violations import Violation, ViolationLog, to_json, to_junit

from .conftest import ALICE, ROOT, Client


def recorded(app: Flask) -> list[tuple[str | None, str, str, object]]:
    return [(v.operation_id, v.location, v.rule, v.value) for v in app.extensions["mockviking"].violations.all()]


def test_validation_failures_are_violations_with_values(app: Flask, client: Client) -> None:
    client.post("/api/v1/sessions/s/messages/batch", headers=ALICE,
                json={"messages": [{"role": "user", "content": "ok"}, {"role": 7, "content": "x"}]})
    client.get("/api/v1/sessions/s?auto_create=maybe", headers=ALICE)
    client.post("/api/v1/sessions/s/messages", headers=ALICE, data=b"{", content_type="application/json")
    client.post("/api/v1/sessions/s/messages", headers=ALICE, data=b'{"x":"\xff"}', content_type="application/json")
    client.post("/api/v1/admin/accounts", headers=ROOT, json={"account_id": "_x", "admin_user_id": "y"})
    assert recorded(app) == [
        ("batch_add_messages", "body.messages.1.role", "string_type", 7),
        ("get_session", "query.auto_create", "bool_parsing", "maybe"),
        ("add_message", "body.1", "json_invalid", None),
        ("add_message", "body", "body_unparseable", None),
        ("create_account", "body.account_id", "service_error", "_x"),
    ]


def test_route_and_method_misses_are_violations(app: Flask, client: Client) -> None:
    client.get("/api/v1/sessions/s/nope", headers=ALICE)
    client.put("/api/v1/sessions/s", headers=ALICE)
    client.open("/api/v1/sessions/s", method="QUERY", headers=ALICE)
    assert [(v.rule, v.message) for v in app.extensions["mockviking"].violations.all()] == [
        ("unknown_route", "GET /api/v1/sessions/s/nope matches no route of the contract"),
        ("method_not_allowed", "PUT is not allowed here; the contract allows GET, DELETE"),
        ("method_not_allowed", "QUERY is not allowed here; the contract allows GET, DELETE"),
    ]


def test_what_is_not_a_violation(app: Flask, client: Client) -> None:
    client.get("/api/v1/sessions")  # no key: the request is well formed, the caller unknown
    client.get("/api/v1/sessions/missing", headers=ALICE)  # a 404 for a session is a state answer
    client.get("/api/v1/sessions/", headers=ALICE)  # a 307 redirect
    client.post("/_mockviking/faults", json={"bogus": 1})  # the control API is not the contract
    client.get("/_mockviking/nope")
    assert recorded(app) == []


def test_journal_entries_carry_their_violations(app: Flask, client: Client) -> None:
    client.post("/api/v1/sessions/s/messages", headers=ALICE, json={"role": "user"})
    entry = client.get("/_mockviking/requests").get_json()["result"][0]
    assert entry["violations"] == [{
        "method": "POST", "path": "/api/v1/sessions/s/messages", "operation_id": "add_message",
        "location": "body", "rule": "value_error",
        "message": "Value error, Either 'content' or 'parts' must be provided", "value": {"role": "user"},
    }]


def test_log_is_bounded_and_reports() -> None:
    log = ViolationLog(limit=2)
    for index in range(3):
        log.add(Violation("POST", "/p", "op", "body", "missing", f"m{index}", "x" * 500 if index else None))
    assert len(log.all()) == 2
    assert log.dropped == 1
    report = log.report()
    assert report.startswith("3 request(s) broke the OpenViking contract:")
    assert "... and 1 more not kept" in report
    document = json.loads(to_json(log))
    assert document["count"] == 3
    assert document["violations"][1]["value"].endswith("…")
    assert 'failures="2"' in to_junit(log)
