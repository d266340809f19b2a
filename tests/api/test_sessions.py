"""Create, list, get, delete: results, counters and every error path."""

from __future__ import annotations

import datetime as dt
import re
import typing as t

import pytest
from flask import Flask

from mockviking import Config, SessionStore, create_app

from .conftest import ALICE, BOB, Client, error, ok

SEED_USER = {"account_id": "default", "user_id": "alice", "agent_id": "default"}
GET_KEYS = [
    "session_id", "created_at", "updated_at", "created_by_account_id", "created_by_user_id",
    "message_count", "commit_count", "memories_extracted", "last_commit_at", "llm_token_usage",
    "embedding_token_usage", "pending_tokens", "keep_recent_count", "retention_mode",
    "keep_recent_turn_count", "retained_message_token_budget", "min_raw_tail_steps", "memory_policy",
    "auto_commit_policy", "last_message_at", "last_auto_commit_at", "last_idle_commit_accepted_at",
    "total_message_count", "uri", "user", "memory_extraction_config",
]


def test_get_seed_session_matches_the_seed_document(client: Client) -> None:
    result = ok(client.get("/api/v1/sessions/a1b2c3d4", headers=ALICE))
    assert list(result) == GET_KEYS  # the real server's 26 fields, in its order
    assert result["message_count"] == 5
    assert result["commit_count"] == 3
    assert result["memories_extracted"] == {
        "profile": 1, "preferences": 2, "entities": 3, "events": 1, "cases": 2, "patterns": 1,
        "tools": 0, "skills": 0, "total": 10,
    }
    assert result["llm_token_usage"] == {
        "prompt_tokens": 5200, "completion_tokens": 1800, "total_tokens": 7000,
        "cached_tokens": 0, "reasoning_tokens": 0,
    }
    assert result["pending_tokens"] == 128
    assert result["user"] == SEED_USER
    assert result["last_commit_at"] == "2026-03-23T03:00:00.000Z"
    assert result["uri"] == "viking://user/alice/sessions/a1b2c3d4"
    assert result["total_message_count"] == 17


def test_agent_header_is_reported(client: Client) -> None:
    result = ok(client.get("/api/v1/sessions/a1b2c3d4", headers={**ALICE, "X-OpenViking-Agent": "agent7"}))
    assert result["user"]["agent_id"] == "agent7"
    peer = ok(client.get("/api/v1/sessions/a1b2c3d4", headers={**ALICE, "X-OpenViking-Actor-Peer": "p1"}))
    assert peer["user"]["agent_id"] == "p1"


def test_get_missing_is_404_in_the_seed_shape(client: Client) -> None:
    response = client.get("/api/v1/sessions/not-exists", headers=ALICE)
    assert response.status_code == 404
    assert response.get_json() == {
        "status": "error", "error": {"code": "NOT_FOUND", "message": "Session not-exists not found"},
    }


@pytest.mark.parametrize("flag", ["true", "1", "yes", "on", "TRUE"])
def test_auto_create(client: Client, flag: str) -> None:
    result = ok(client.get(f"/api/v1/sessions/new-{flag}?auto_create={flag}", headers=ALICE))
    assert result["session_id"] == f"new-{flag}"
    assert result["message_count"] == 0
    assert result["total_message_count"] == 0
    assert result["memories_extracted"]["total"] == 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", result["created_at"])
    assert result["last_commit_at"] == ""
    assert result["last_message_at"] == ""
    ok(client.get(f"/api/v1/sessions/new-{flag}", headers=ALICE))


def test_auto_create_false_does_not_create(client: Client) -> None:
    error(client.get("/api/v1/sessions/x?auto_create=false", headers=ALICE), 404, "NOT_FOUND")
    error(client.get("/api/v1/sessions/x", headers=ALICE), 404, "NOT_FOUND")


def test_create_generated_and_chosen_ids(client: Client) -> None:
    for body in ({}, {"session_id": ""}, {"session_id": None}, None):
        kwargs = {"json": body} if body is not None else {}
        result = ok(client.post("/api/v1/sessions", headers=ALICE, **kwargs))
        assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{16}", result["session_id"])
    result = ok(client.post("/api/v1/sessions", headers=ALICE, json={"session_id": "chosen", "extra": 1}))
    assert result == {
        "session_id": "chosen",
        "uri": "viking://user/alice/sessions/chosen",
        "user": SEED_USER,
        "auto_commit_policy": None,
        "memory_extraction_config": {"events": {"tags": []}},
    }


def test_create_duplicate_is_409(client: Client) -> None:
    err = error(client.post("/api/v1/sessions", headers=ALICE, json={"session_id": "a1b2c3d4"}),
                409, "ALREADY_EXISTS")
    assert err["message"] == "Resource already exists: Session 'a1b2c3d4' already exists"
    assert err["details"] == {"resource": "Session 'a1b2c3d4' already exists", "type": "resource"}


def test_create_with_policy_config_and_memory_policy(client: Client) -> None:
    result = ok(client.post("/api/v1/sessions", headers=ALICE, json={
        "session_id": "p1",
        "auto_commit_policy": {"pending_token_threshold": 5, "message_count_threshold": 99999,
                               "keep_recent_count": "7"},
        "memory_extraction_config": {"events": {"tags": [" Team=Search ", "bad", "a=b", "a=c"]}},
        "memory_policy": {"memory_types": ["profile"]},
    }))
    assert result["auto_commit_policy"] == {
        "pending_token_threshold": 5, "message_count_threshold": 1000, "idle_timeout_seconds": 86400,
        "keep_recent_count": 7, "min_commit_interval_seconds": 0,
    }
    assert result["memory_extraction_config"] == {"events": {"tags": ["team=search", "a=c"]}}
    detail = ok(client.get("/api/v1/sessions/p1", headers=ALICE))
    assert detail["memory_policy"] == {
        "self": {"enabled": True}, "peer": {"enabled": True}, "working_memory": {"enabled": False},
        "memory_types": ["profile"],
    }
    assert detail["auto_commit_policy"] == result["auto_commit_policy"]
    empty = ok(client.post("/api/v1/sessions", headers=ALICE, json={"auto_commit_policy": {}}))
    assert empty["auto_commit_policy"]["pending_token_threshold"] == 150000


@pytest.mark.parametrize(
    ("body", "loc", "kind"),
    [
        ({"session_id": 123}, ["body", "session_id"], "string_type"),
        ([], ["body"], "model_attributes_type"),
        ({"auto_commit_policy": {"bogus": 1}}, ["body", "auto_commit_policy", "bogus"], "extra_forbidden"),
        ({"auto_commit_policy": {"keep_recent_count": None}}, ["body", "auto_commit_policy"], "value_error"),
    ],
)
def test_create_validation(client: Client, body: object, loc: list[str], kind: str) -> None:
    err = error(client.post("/api/v1/sessions", headers=ALICE, json=body), 400, "INVALID_ARGUMENT")
    assert err["details"]["validation_errors"][0]["loc"] == loc
    assert err["details"]["validation_errors"][0]["type"] == kind


def test_create_null_body_and_non_json(client: Client) -> None:
    for kwargs in ({"data": "null", "content_type": "application/json"},
                   {"data": '{"session_id":"tp"}', "content_type": "text/plain"}):
        err = error(client.post("/api/v1/sessions", headers=ALICE, **kwargs), 400, "INVALID_ARGUMENT")
        assert err["message"] == (
            "Invalid request parameters: body: Input should be a valid dictionary or object to extract fields from"
        )


@pytest.mark.parametrize(
    ("session_id", "message"),
    [
        (".", "Unsafe URI traversal segment '.' in viking://user/alice/sessions/."),
        ("..", "Unsafe URI traversal segment '..' in viking://user/alice/sessions/.."),
        ("../x", "Unsafe URI traversal segment '..' in viking://user/alice/sessions/../x"),
        ("a\\b", "Unsafe URI path separator '\\\\' in component 'a\\b' of viking://user/alice/sessions/a\\b"),
        ("C:x", "Unsafe URI drive-prefixed component 'C:x' in viking://user/alice/sessions/C:x"),
    ],
)
def test_unsafe_ids_are_refused(client: Client, session_id: str, message: str) -> None:
    err = error(client.post("/api/v1/sessions", headers=ALICE, json={"session_id": session_id}),
                403, "PERMISSION_DENIED")
    assert err["message"] == message
    assert err["details"] == {"resource": message.rsplit(" ", 1)[-1]}


def test_unsafe_path_ids_are_refused_on_every_route(client: Client) -> None:
    for method, path in [("GET", "/api/v1/sessions/%2E%2E"), ("DELETE", "/api/v1/sessions/C:x"),
                         ("POST", "/api/v1/sessions/a%5Cb/messages")]:
        response = client.open(path, method=method, headers=ALICE, json={"role": "user", "content": "x"})
        error(response, 403, "PERMISSION_DENIED")


def test_ids_with_spaces_and_unicode_round_trip(client: Client) -> None:
    for sid, path in [("with space", "with%20space"), ("日本語", "%E6%97%A5%E6%9C%AC%E8%AA%9E")]:
        ok(client.post("/api/v1/sessions", headers=ALICE, json={"session_id": sid}))
        assert ok(client.get(f"/api/v1/sessions/{path}", headers=ALICE))["session_id"] == sid
        assert ok(client.delete(f"/api/v1/sessions/{path}", headers=ALICE)) == {"session_id": sid}


@pytest.mark.parametrize("path", ["/api/v1/sessions/a%2Fb", "/api/v1/sessions/%2FL/messages",
                                  "/api/v1/sessions//L"])
def test_slash_in_path_is_a_route_miss(client: Client, path: str) -> None:
    response = client.open(path, method="POST" if path.endswith("messages") else "GET", headers=ALICE,
                           json={"role": "user", "content": "x"})
    assert response.status_code == 404
    assert response.get_json() == {"status": "error", "error": {"code": "NOT_FOUND", "message": "Not Found"}}


def test_list_is_scoped_and_newest_first(client: Client) -> None:
    listed = ok(client.get("/api/v1/sessions", headers=ALICE))
    assert {item["session_id"] for item in listed} == {"a1b2c3d4", "tool-demo"}
    for item in listed:
        assert set(item) == {"session_id", "uri", "is_dir", "mod_time"}
        assert item["is_dir"] is True
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", item["mod_time"])
    assert ok(client.get("/api/v1/sessions", headers=BOB)) == []


def test_list_orders_by_whole_second_then_name(client_for: t.Callable[[Flask], Client]) -> None:
    now = [dt.datetime(2026, 3, 23, 2, 0, 0, tzinfo=dt.timezone.utc)]
    store = SessionStore(clock=lambda: now[0])
    client = client_for(create_app(Config(fixtures=()), store=store))
    for sid in ("b", "A", "c"):
        ok(client.post("/api/v1/sessions", json={"session_id": sid}))
    now[0] += dt.timedelta(seconds=1)
    ok(client.post("/api/v1/sessions/b/messages", json={"role": "user", "content": "x"}))
    listed = ok(client.get("/api/v1/sessions"))
    assert [item["session_id"] for item in listed] == ["b", "A", "c"]
    assert listed[0]["mod_time"] == "2026-03-23T02:00:01Z"


def test_delete(client: Client) -> None:
    assert ok(client.delete("/api/v1/sessions/a1b2c3d4", headers=ALICE)) == {"session_id": "a1b2c3d4"}
    error(client.get("/api/v1/sessions/a1b2c3d4", headers=ALICE), 404, "NOT_FOUND")
    err = error(client.delete("/api/v1/sessions/a1b2c3d4", headers=ALICE), 404, "NOT_FOUND")
    assert err["message"] == "Session not found: a1b2c3d4"
    assert err["details"] == {"type": "session", "resource": "a1b2c3d4"}
    # A later write to the same id starts a fresh session.
    result = ok(client.post("/api/v1/sessions/a1b2c3d4/messages", headers=ALICE,
                            json={"role": "user", "content": "again"}))
    assert result["message_count"] == 1


def test_sessions_are_isolated_between_users(client: Client) -> None:
    error(client.get("/api/v1/sessions/a1b2c3d4", headers=BOB), 404, "NOT_FOUND")
    error(client.delete("/api/v1/sessions/a1b2c3d4", headers=BOB), 404, "NOT_FOUND")
    ok(client.post("/api/v1/sessions", headers=BOB, json={"session_id": "a1b2c3d4"}))
    ok(client.post("/api/v1/sessions/a1b2c3d4/messages", headers=BOB, json={"role": "user", "content": "b"}))
    assert ok(client.get("/api/v1/sessions/a1b2c3d4", headers=BOB))["message_count"] == 1
    assert ok(client.get("/api/v1/sessions/a1b2c3d4", headers=ALICE))["message_count"] == 5


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("x", "memory_policy must be an object"),
        ({"other": 1}, "memory_policy supports only: memory_types, peer, self, working_memory"),
        ({"self": 1}, "memory_policy target must be an object"),
        ({"self": {"enabled": True, "x": 1}}, "memory_policy target supports only: enabled"),
        ({"working_memory": {"x": 1}}, "memory_policy.working_memory supports only: enabled"),
        ({"memory_types": "profile"}, "memory_policy.memory_types must be a list"),
        ({"memory_types": ["profile", ""]}, "memory_policy.memory_types must contain non-empty strings"),
        ({"memory_types": ["zeta", "bogus", "profile"]}, "Unknown memory_policy.memory_types: bogus, zeta"),
    ],
)
def test_memory_policy_is_checked_in_the_real_servers_words(
    client: Client, policy: object, message: str
) -> None:
    err = error(client.post("/api/v1/sessions", headers=ALICE, json={"memory_policy": policy}),
                400, "INVALID_ARGUMENT")
    assert err == {"code": "INVALID_ARGUMENT", "message": message, "details": {}}


def test_memory_policy_flags_are_read_loosely(client: Client) -> None:
    ok(client.post("/api/v1/sessions", headers=ALICE, json={"session_id": "mp", "memory_policy": {
        "self": {"enabled": "off"}, "peer": {"enabled": 2}, "working_memory": {"enabled": "YES"}}}))
    policy = ok(client.get("/api/v1/sessions/mp", headers=ALICE))["memory_policy"]
    assert policy == {"self": {"enabled": False}, "peer": {"enabled": True}, "working_memory": {"enabled": True}}


@pytest.mark.parametrize("flag", [0, 1, "on", "TRUE", "n"])
def test_telemetry_flags_are_lax_booleans(client: Client, flag: object) -> None:
    body = client.post("/api/v1/sessions", headers=ALICE, json={"telemetry": flag}).get_json()
    assert body["status"] == "ok"
    assert (body["telemetry"] is not None) == (flag in (1, "on", "TRUE"))
