"""Adding messages (simple and parts mode) and batches: stored form, counters, errors."""

from __future__ import annotations

import json
import typing as t

import pytest
from flask import Flask

from mockviking import Owner

from .conftest import ALICE, Client, error, ok

ALICE_OWNER = Owner("default", "alice")


def add(client: Client, body: t.Any, session: str = "m1") -> t.Any:
    return client.post(f"/api/v1/sessions/{session}/messages", headers=ALICE, json=body)


def stored(app: Flask, session: str = "m1") -> list[dict[str, t.Any]]:
    found = app.extensions["mockviking"].store.get_session(ALICE_OWNER, session)
    assert found is not None
    return [m.to_dict() for m in found.messages]


def test_simple_mode_auto_creates_and_counts(client: Client, app: Flask) -> None:
    result = ok(add(client, {"role": "user", "content": "How do I authenticate users?"}))
    assert result == {"session_id": "m1", "message_count": 1, "pending_tokens": 7}
    message = stored(app)[0]
    assert message["id"].startswith("msg_")
    assert len(message["id"]) == 36
    assert message["parts"] == [{"type": "text", "text": "How do I authenticate users?"}]
    assert message["created_at"].endswith("+00:00")
    detail = ok(client.get("/api/v1/sessions/m1", headers=ALICE))
    assert (detail["message_count"], detail["total_message_count"], detail["pending_tokens"]) == (1, 1, 7)
    assert detail["last_message_at"] != ""


def test_parts_mode_seed_example(client: Client, app: Flask) -> None:
    result = ok(add(client, {"role": "assistant", "parts": [
        {"type": "text", "text": "Based on the authentication guide..."},
        {"type": "context", "uri": "viking://resources/docs/auth/", "context_type": "resource",
         "abstract": "Auth guide"},
    ]}))
    assert result == {"session_id": "m1", "message_count": 1, "pending_tokens": 12}
    assert stored(app)[0]["parts"] == [
        {"type": "text", "text": "Based on the authentication guide..."},
        {"type": "context", "uri": "viking://resources/docs/auth", "context_type": "resource",
         "abstract": "Auth guide"},
    ]


def test_existing_session_counts_up(client: Client) -> None:
    result = ok(client.post("/api/v1/sessions/a1b2c3d4/messages", headers=ALICE,
                            json={"role": "user", "content": "abcd"}))
    assert result == {"session_id": "a1b2c3d4", "message_count": 6, "pending_tokens": 129}
    assert ok(client.get("/api/v1/sessions/a1b2c3d4", headers=ALICE))["total_message_count"] == 18


@pytest.mark.parametrize(
    ("part", "expected"),
    [
        ({"type": "weird", "foo": 1}, {"type": "text", "text": "{'type': 'weird', 'foo': 1}"}),
        ({"type": "text"}, {"type": "text", "text": ""}),
        ({"text": "no type"}, {"type": "text", "text": "no type"}),
        ({"type": "context", "abstract": "a"}, {"type": "context", "uri": "", "context_type": "memory",
                                                "abstract": "a"}),
        ({"type": "image_url", "image_url": "https://x/y.png"},
         {"type": "image_url", "image_url": {"url": "https://x/y.png"}}),
        ({"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}},
         {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}}),
    ],
)
def test_parts_are_stored_leniently(client: Client, app: Flask, part: dict[str, t.Any],
                                    expected: dict[str, t.Any]) -> None:
    # Sent as text: Flask's test client would sort the keys, and str(dict) keeps their order.
    body = json.dumps({"role": "user", "parts": [part]})
    ok(client.post("/api/v1/sessions/m1/messages", headers=ALICE, data=body, content_type="application/json"))
    assert stored(app)[0]["parts"] == [expected]


def test_tool_part_is_stored_with_its_output_group(client: Client, app: Flask) -> None:
    ok(add(client, {"role": "assistant", "parts": [
        {"type": "tool", "tool_id": "call-1", "tool_name": "shell", "tool_input": {"cmd": "ls"},
         "tool_output": "x", "tool_status": "completed"}]}))
    message = stored(app)[0]
    assert message["parts"] == [{
        "type": "tool", "tool_id": "call-1", "tool_name": "shell", "tool_uri": "", "skill_uri": "",
        "tool_status": "completed", "tool_input": {"cmd": "ls"}, "tool_output": "x",
        "tool_output_group_id": message["id"], "tool_output_group_original_chars": 1,
        "tool_output_group_budget_chars": 100000,
    }]


def test_user_message_of_tool_parts_splits(client: Client, app: Flask) -> None:
    tool = {"type": "tool", "tool_name": "shell", "tool_output": "x"}
    parts = [dict(tool, tool_id="a"), dict(tool, tool_id="b", tool_output="yy")]
    result = ok(add(client, {"role": "user", "parts": parts}))
    assert result["message_count"] == 2
    first, second = stored(app)
    assert first["message_kind"] == second["message_kind"] == "tool_transport"
    assert first["parts"][0]["tool_output_group_id"] == second["parts"][0]["tool_output_group_id"] == first["id"]
    assert first["parts"][0]["tool_output_group_original_chars"] == 3
    assert ok(client.get("/api/v1/sessions/m1", headers=ALICE))["total_message_count"] == 2


def test_optional_fields_are_kept(client: Client, app: Flask) -> None:
    ok(add(client, {"role": "user", "content": "x", "created_at": "yesterday", "peer_id": " alice ",
                    "turn_id": "t1", "message_kind": "user_query", "source_message_ids": ["a", "b"],
                    "metadata": {"ignored": True}}))
    ok(add(client, {"role": "user", "content": "y", "peer_id": ""}))
    first, second = stored(app)
    assert first["created_at"] == "yesterday"  # stored verbatim
    assert (first["peer_id"], first["turn_id"], first["message_kind"]) == ("alice", "t1", "user_query")
    assert first["source_message_ids"] == ["a", "b"]
    assert "peer_id" not in second
    assert "metadata" not in first


def test_any_role_and_empty_content_are_accepted(client: Client, app: Flask) -> None:
    ok(add(client, {"role": "system", "content": "s"}))
    ok(add(client, {"role": "bogus", "content": ""}))
    ok(add(client, {"role": "user", "parts": []}))
    ok(add(client, {"role": "user", "content": "ignored", "parts": [{"type": "text", "text": "wins"}]}))
    messages = stored(app)
    assert [m["role"] for m in messages] == ["system", "bogus", "user", "user"]
    assert messages[1]["parts"] == [{"type": "text", "text": ""}]
    assert messages[2]["parts"] == []
    assert messages[3]["parts"] == [{"type": "text", "text": "wins"}]


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("http://x", "URI must start with 'viking://'"),
        ("viking://bogus/x",
         "Invalid scope 'bogus'. Must be one of: agent, queue, resources, session, system, temp, upload, user"),
    ],
)
def test_context_uri_is_checked(client: Client, app: Flask, uri: str, reason: str) -> None:
    response = add(client, {"role": "user", "parts": [{"type": "context", "uri": uri}]})
    assert response.status_code == 400
    assert response.get_json() == {
        "status": "error", "result": None,
        "error": {"code": "INVALID_URI", "message": f"Invalid URI: {uri} ({reason})",
                  "details": {"uri": uri, "reason": reason}},
        "telemetry": None, "profile": None,
    }
    error(client.get("/api/v1/sessions/m1", headers=ALICE), 404, "NOT_FOUND")  # nothing stored


def test_empty_image_url(client: Client) -> None:
    response = add(client, {"role": "user", "parts": [{"type": "image_url", "image_url": {"url": ""}}]})
    assert response.status_code == 400
    assert response.get_json() == {
        "status": "error",
        "error": {"code": "INVALID_ARGUMENT", "message": "image_url part requires a non-empty URL"},
    }


def test_text_part_with_non_string_text_is_a_clear_400(client: Client) -> None:
    # The real server answers 500 here; mockviking names the problem instead.
    err = error(add(client, {"role": "user", "parts": [{"type": "text", "text": 5}]}), 400, "INVALID_ARGUMENT")
    assert err["message"] == "Invalid request parameters: body.parts.0.text: Input should be a valid string"


def test_batch_seed_example(client: Client, app: Flask) -> None:
    result = ok(client.post("/api/v1/sessions/b1/messages/batch", headers=ALICE, json={"messages": [
        {"role": "user", "content": "How do I authenticate users?"},
        {"role": "assistant", "content": "You can use OAuth 2.0 for authentication."},
        {"role": "user", "content": "Any specific recommendations?"},
    ]}))
    assert result == {"session_id": "b1", "message_count": 3, "added": 3, "pending_tokens": 7 + 11 + 8}
    assert [m["role"] for m in stored(app, "b1")] == ["user", "assistant", "user"]


def test_batch_empty_and_limits(client: Client) -> None:
    assert ok(client.post("/api/v1/sessions/b2/messages/batch", headers=ALICE, json={"messages": []})) == {
        "session_id": "b2", "message_count": 0, "added": 0, "pending_tokens": 0,
    }
    hundred = {"messages": [{"role": "user", "content": f"m{i}"} for i in range(100)]}
    assert ok(client.post("/api/v1/sessions/b3/messages/batch", headers=ALICE, json=hundred))["added"] == 100
    hundred["messages"].append({"role": "user", "content": "one too many"})
    err = error(client.post("/api/v1/sessions/b3/messages/batch", headers=ALICE, json=hundred),
                400, "INVALID_ARGUMENT")
    assert err["details"]["validation_errors"][0]["type"] == "too_long"


@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "user", "content": "q"}, {"content": "no role"}, {"role": "user", "content": "z"}],
        [{"role": "user", "content": "q"}, {"role": "user", "parts": [{"type": "context", "uri": "http://bad"}]}],
        [{"role": "user", "content": "q"}, {"role": "user", "parts": [{"type": "image_url", "image_url": ""}]}],
    ],
)
def test_batch_is_all_or_nothing(client: Client, messages: list[dict[str, t.Any]]) -> None:
    response = client.post("/api/v1/sessions/a1b2c3d4/messages/batch", headers=ALICE, json={"messages": messages})
    assert response.status_code == 400
    assert ok(client.get("/api/v1/sessions/a1b2c3d4", headers=ALICE))["message_count"] == 5


def test_batch_tool_groups_are_per_message(client: Client, app: Flask) -> None:
    tool = {"type": "tool", "tool_id": "t", "tool_name": "n", "tool_output": "out"}
    ok(client.post("/api/v1/sessions/b4/messages/batch", headers=ALICE, json={"messages": [
        {"role": "assistant", "parts": [tool]}, {"role": "assistant", "parts": [tool]}]}))
    first, second = stored(app, "b4")
    assert first["parts"][0]["tool_output_group_id"] == first["id"]
    assert second["parts"][0]["tool_output_group_id"] == second["id"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Invalid request parameters: body.messages: Field required"),
        ({"messages": "x"}, "Invalid request parameters: body.messages: Input should be a valid list"),
    ],
)
def test_batch_validation(client: Client, body: dict[str, t.Any], message: str) -> None:
    err = error(client.post("/api/v1/sessions/b5/messages/batch", headers=ALICE, json=body), 400, "INVALID_ARGUMENT")
    assert err["message"] == message


def test_parts_ignore_fields_their_type_does_not_read(client: Client, app: Flask) -> None:
    ok(add(client, {"role": "user", "parts": [{"type": "text", "text": "u", "uri": {"a": 1}, "context_type": False}]}))
    ok(add(client, {"role": "user", "parts": [{"type": {"a": 1}, "text": "hi"}]}))
    ok(add(client, {"role": "assistant", "parts": [{"type": "tool", "tool_id": "t1", "tool_name": "x",
                                                    "tool_input": True, "tool_output": "o"}]}))
    first, second, third = stored(app)
    assert first["parts"] == [{"type": "text", "text": "u"}]
    assert second["parts"] == [{"type": "text", "text": "hi"}]
    assert third["parts"][0]["tool_input"] is True
    err = error(add(client, {"role": "user", "parts": [{"type": "context", "uri": 5}]}), 400, "INVALID_ARGUMENT")
    assert err["details"]["validation_errors"][0]["loc"] == ["body", "parts", "0", "uri"]
