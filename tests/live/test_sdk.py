"""The official Python SDK (openviking-sdk 0.1.17) against a live ``mockviking serve``.

A passing SDK call proves little on its own (the SDK is lenient about envelopes), so every
test checks the returned values and the exception class, code, message and details.
The server is shared by all tests: every test uses its own uuid-based session ids.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import typing as t
import uuid

import httpx
import pytest
from openviking_sdk import ContextPart, SyncHTTPClient, TextPart
from openviking_sdk.errors import (
    AlreadyExistsError,
    InvalidArgumentError,
    InvalidURIError,
    NotFoundError,
    OpenVikingError,
    PermissionDeniedError,
    UnauthenticatedError,
)

from tests._support import ALICE_KEY, BOB_KEY, CAROL_KEY, ROOT_KEY

GENERATED_ID = re.compile(r"^(\d{8})-(\d{6})-[0-9a-f]{16}$")

# The 26 fields of the real server's GET /api/v1/sessions/{id} result.
GET_FIELDS = {
    "session_id", "created_at", "updated_at", "created_by_account_id", "created_by_user_id",
    "message_count", "commit_count", "memories_extracted", "last_commit_at", "llm_token_usage",
    "embedding_token_usage", "pending_tokens", "keep_recent_count", "retention_mode",
    "keep_recent_turn_count", "retained_message_token_budget", "min_raw_tail_steps",
    "memory_policy", "auto_commit_policy", "last_message_at", "last_auto_commit_at",
    "last_idle_commit_accepted_at", "total_message_count", "uri", "user",
    "memory_extraction_config",
}
MS_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
Client = t.Any  # openviking_sdk.SyncHTTPClient (untyped)


def new_id(prefix: str = "live") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def ascii_tokens(*texts: str) -> int:
    """The estimate for ASCII text: a quarter token per character, rounded up per message."""
    return math.ceil(len("".join(texts)) / 4)


def admin_post(base_url: str, path: str, body: dict[str, t.Any], key: str = ROOT_KEY) -> t.Any:
    response = httpx.post(f"{base_url}{path}", json=body, headers={"X-API-Key": key}, timeout=10)
    assert response.status_code == 200, response.text
    envelope = response.json()
    assert envelope["status"] == "ok"
    assert envelope["error"] is None
    return envelope["result"]


# -- system -------------------------------------------------------------------------------


def test_health_is_true(alice: Client, make_client: t.Callable[..., Client]) -> None:
    assert alice.health() is True
    # /health needs no key.
    assert make_client(None).health() is True


def test_health_body_reports_api_key_mode_and_caller(base_url: str) -> None:
    anonymous = httpx.get(f"{base_url}/health", timeout=10)
    assert anonymous.status_code == 200
    assert anonymous.json() == {
        "status": "ok", "healthy": True, "version": "0.5.2", "auth_mode": "api_key",
    }
    as_bob = httpx.get(f"{base_url}/health", headers={"X-API-Key": BOB_KEY}, timeout=10).json()
    assert as_bob["account_id"] == "default"
    assert as_bob["user_id"] == "bob"
    assert as_bob["role"] == "user"


# -- create ---------------------------------------------------------------------------------


def test_create_generates_an_id(alice: Client) -> None:
    before = dt.datetime.now(dt.timezone.utc)
    result = alice.create_session()
    after = dt.datetime.now(dt.timezone.utc)

    session_id = result["session_id"]
    match = GENERATED_ID.match(session_id)
    assert match, session_id
    stamp = dt.datetime.strptime(match[1] + match[2], "%Y%m%d%H%M%S")
    stamp = stamp.replace(tzinfo=dt.timezone.utc)
    assert before.replace(microsecond=0) - dt.timedelta(seconds=1) <= stamp <= after
    assert result == {
        "session_id": session_id,
        "uri": f"viking://user/alice/sessions/{session_id}",
        "user": {"account_id": "default", "user_id": "alice", "agent_id": "default"},
        "auto_commit_policy": None,
        "memory_extraction_config": {"events": {"tags": []}},
    }
    # Two creations never collide.
    assert alice.create_session()["session_id"] != session_id
    assert alice.get_session(session_id)["message_count"] == 0


def test_create_with_a_chosen_id(alice: Client) -> None:
    session_id = new_id("chosen")
    result = alice.create_session(session_id)
    assert result["session_id"] == session_id
    assert result["uri"] == f"viking://user/alice/sessions/{session_id}"
    assert result["user"]["user_id"] == "alice"

    got = alice.get_session(session_id)
    assert got["session_id"] == session_id
    assert got["message_count"] == 0
    assert got["commit_count"] == 0
    assert got["pending_tokens"] == 0
    assert got["total_message_count"] == 0
    assert got["created_by_account_id"] == "default"
    assert got["created_by_user_id"] == "alice"
    assert alice.session_exists(session_id) is True


def test_create_duplicate_raises_already_exists(alice: Client) -> None:
    session_id = new_id("dup")
    alice.create_session(session_id)
    with pytest.raises(AlreadyExistsError) as info:
        alice.create_session(session_id)
    assert info.value.code == "ALREADY_EXISTS"
    assert info.value.details == {
        "resource": f"Session '{session_id}' already exists", "type": "resource",
    }
    assert str(info.value) == f"Resource already exists: Session '{session_id}' already exists"
    # The existing session is untouched.
    alice.add_message(session_id, "user", "still here")
    with pytest.raises(AlreadyExistsError):
        alice.create_session(session_id)
    assert alice.get_session(session_id)["message_count"] == 1


def test_create_with_a_traversal_id_is_permission_denied(alice: Client) -> None:
    with pytest.raises(PermissionDeniedError) as info:
        alice.create_session("../escape")
    assert info.value.code == "PERMISSION_DENIED"
    assert "Unsafe URI traversal segment" in str(info.value)


# -- add message ----------------------------------------------------------------------------


def test_add_message_content_mode_auto_creates_and_counts(alice: Client) -> None:
    session_id = new_id("add")
    assert alice.session_exists(session_id) is False

    first = alice.add_message(session_id, "user", "How do I authenticate users?")
    assert first == {"session_id": session_id, "message_count": 1, "pending_tokens": 7}
    assert alice.session_exists(session_id) is True

    second = alice.add_message(session_id, "assistant", "Hello, world!")
    assert second == {"session_id": session_id, "message_count": 2, "pending_tokens": 7 + 4}

    # Empty content is accepted and adds a message but no tokens.
    third = alice.add_message(session_id, "user", "")
    assert third == {"session_id": session_id, "message_count": 3, "pending_tokens": 11}

    got = alice.get_session(session_id)
    assert got["message_count"] == 3
    assert got["total_message_count"] == 3
    assert got["pending_tokens"] == 11
    assert MS_TIMESTAMP.match(got["last_message_at"]), got["last_message_at"]


def test_add_message_counts_cjk_at_one_and_a_half(alice: Client) -> None:
    session_id = new_id("cjk")
    assert alice.add_message(session_id, "user", "你好世界")["pending_tokens"] == 6
    assert alice.add_message(session_id, "user", "你好世界" * 100)["pending_tokens"] == 6 + 600


def test_add_message_parts_mode(alice: Client) -> None:
    session_id = new_id("parts")
    text = "Use the authorization code flow with PKCE."
    abstract = "Authentication guide"
    result = alice.add_message(
        session_id,
        "assistant",
        parts=[
            TextPart(text=text),
            ContextPart(
                uri="viking://resources/docs/auth/", context_type="resource", abstract=abstract,
            ),
        ],
    )
    # Text and abstract are joined and estimated once; the URI does not count.
    expected = ascii_tokens(text, abstract)
    assert result == {"session_id": session_id, "message_count": 1, "pending_tokens": expected}

    # Parts win over content (the SDK drops content); a context part alone counts its abstract.
    result = alice.add_message(
        session_id, "user", content="x" * 400,
        parts=[
            ContextPart(uri="viking://resources/a/", context_type="resource", abstract="abcdefgh"),
        ],
    )
    assert result == {"session_id": session_id, "message_count": 2, "pending_tokens": expected + 2}

    # Plain dict parts pass through the SDK unchanged.
    result = alice.add_message(session_id, "user", parts=[{"type": "text", "text": "12345"}])
    assert result["message_count"] == 3
    assert result["pending_tokens"] == expected + 2 + 2
    assert alice.get_session(session_id)["pending_tokens"] == result["pending_tokens"]


def test_add_message_with_a_non_viking_context_uri_is_invalid_uri(alice: Client) -> None:
    session_id = new_id("baduri")
    with pytest.raises(InvalidURIError) as info:
        alice.add_message(
            session_id, "user",
            parts=[ContextPart(uri="https://example.com/", context_type="resource", abstract="")],
        )
    assert info.value.code == "INVALID_URI"
    assert info.value.details["uri"] == "https://example.com/"
    # Nothing was stored.
    assert alice.session_exists(session_id) is False


def test_add_message_with_a_bad_message_kind_is_invalid_argument(alice: Client) -> None:
    session_id = new_id("kind")
    with pytest.raises(InvalidArgumentError) as info:
        alice.add_message(session_id, "user", "hi", options={"message_kind": "bogus"})
    assert info.value.code == "INVALID_ARGUMENT"
    assert str(info.value).startswith("Invalid request parameters: body.message_kind: ")
    errors = info.value.details["validation_errors"]
    assert errors[0]["loc"] == ["body", "message_kind"]
    assert errors[0]["type"] == "literal_error"


def test_sync_session_handle(alice: Client) -> None:
    session_id = new_id("handle")
    handle = alice.session(session_id)
    assert handle.add_message("user", "abcd") == {
        "session_id": session_id, "message_count": 1, "pending_tokens": 1,
    }
    assert handle.batch_add_messages([{"role": "assistant", "content": "efgh"}])["added"] == 1
    loaded = handle.load()
    assert loaded["session_id"] == session_id
    assert loaded["message_count"] == 2
    assert handle.delete() is None
    with pytest.raises(NotFoundError):
        alice.session(session_id, must_exist=True)


# -- batch ----------------------------------------------------------------------------------


def test_batch_adds_three_messages(alice: Client) -> None:
    session_id = new_id("batch")
    messages = [
        {"role": "user", "content": "How do I authenticate users?"},
        {"role": "assistant", "parts": [{"type": "text", "text": "Use OAuth 2.0."}]},
        {"role": "user", "content": "Thanks!"},
    ]
    expected = 7 + ascii_tokens("Use OAuth 2.0.") + ascii_tokens("Thanks!")
    result = alice.batch_add_messages(session_id, messages)
    assert result == {
        "session_id": session_id, "message_count": 3, "added": 3, "pending_tokens": expected,
    }

    # A second batch appends to the auto-created session.
    result = alice.batch_add_messages(session_id, messages[:2])
    assert result["added"] == 2
    assert result["message_count"] == 5
    assert result["pending_tokens"] == expected + 7 + ascii_tokens("Use OAuth 2.0.")

    got = alice.get_session(session_id)
    assert got["message_count"] == 5
    assert got["total_message_count"] == 5
    assert got["pending_tokens"] == result["pending_tokens"]


def test_empty_batch_creates_the_session(alice: Client) -> None:
    session_id = new_id("empty")
    result = alice.batch_add_messages(session_id, [])
    assert result == {"session_id": session_id, "message_count": 0, "added": 0, "pending_tokens": 0}
    assert alice.session_exists(session_id) is True


def test_batch_with_an_invalid_message_adds_nothing(alice: Client) -> None:
    session_id = new_id("badbatch")
    alice.add_message(session_id, "user", "first")
    with pytest.raises(InvalidArgumentError) as info:
        # The SDK does not check roles, so the message without one reaches the server.
        alice.batch_add_messages(
            session_id, [{"role": "user", "content": "ok"}, {"content": "no role"}],
        )
    assert info.value.code == "INVALID_ARGUMENT"
    assert str(info.value) == "Invalid request parameters: body.messages.1.role: Field required"
    assert info.value.details["validation_errors"][0] == {
        "loc": ["body", "messages", "1", "role"], "message": "Field required", "type": "missing",
    }
    assert alice.get_session(session_id)["message_count"] == 1


# -- get ------------------------------------------------------------------------------------


def test_get_seed_session(alice: Client) -> None:
    got = alice.get_session("a1b2c3d4")
    assert set(got) == GET_FIELDS
    assert got["session_id"] == "a1b2c3d4"
    assert got["message_count"] == 5
    assert got["commit_count"] == 3
    assert got["memories_extracted"] == {
        "profile": 1, "preferences": 2, "entities": 3, "events": 1, "cases": 2,
        "patterns": 1, "tools": 0, "skills": 0, "total": 10,
    }
    assert got["llm_token_usage"] == {
        "prompt_tokens": 5200, "completion_tokens": 1800, "total_tokens": 7000,
        "cached_tokens": 0, "reasoning_tokens": 0,
    }
    assert got["pending_tokens"] == 128
    assert got["user"] == {"account_id": "default", "user_id": "alice", "agent_id": "default"}
    assert got["created_at"] == "2026-03-23T02:00:00.000Z"
    assert got["updated_at"] == "2026-03-23T03:30:00.000Z"
    assert got["last_commit_at"] == "2026-03-23T03:00:00.000Z"
    # The real server's extra fields.
    assert got["total_message_count"] == 17
    assert got["uri"] == "viking://user/alice/sessions/a1b2c3d4"
    assert got["embedding_token_usage"] == {"total_tokens": 0}
    assert got["created_by_account_id"] == "default"
    assert got["created_by_user_id"] == "alice"
    assert got["keep_recent_count"] == 0
    assert got["retention_mode"] == ""
    assert got["keep_recent_turn_count"] == 0
    assert got["retained_message_token_budget"] == 0
    assert got["min_raw_tail_steps"] == 1
    assert got["memory_policy"] is None
    assert got["auto_commit_policy"] is None
    assert got["last_auto_commit_at"] == ""
    assert got["last_idle_commit_accepted_at"] == ""
    assert got["memory_extraction_config"] == {"events": {"tags": []}}
    assert MS_TIMESTAMP.match(got["last_message_at"]), got["last_message_at"]


def test_get_envelope_over_raw_http(base_url: str) -> None:
    response = httpx.get(
        f"{base_url}/api/v1/sessions/a1b2c3d4", headers={"X-API-Key": ALICE_KEY},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    envelope = response.json()
    assert set(envelope) == {"status", "result", "error", "telemetry", "profile"}
    assert envelope["status"] == "ok"
    assert envelope["error"] is None
    assert envelope["telemetry"] is None
    assert envelope["profile"] is None


def test_get_auto_create(alice: Client) -> None:
    session_id = new_id("auto")
    got = alice.get_session(session_id, auto_create=True)
    assert set(got) == GET_FIELDS
    assert got["session_id"] == session_id
    assert got["message_count"] == 0
    assert got["pending_tokens"] == 0
    assert got["memories_extracted"]["total"] == 0
    assert got["uri"] == f"viking://user/alice/sessions/{session_id}"
    # It now exists: a plain get works and create conflicts.
    assert alice.get_session(session_id)["session_id"] == session_id
    with pytest.raises(AlreadyExistsError):
        alice.create_session(session_id)


def test_get_missing_raises_not_found(alice: Client) -> None:
    session_id = new_id("missing")
    with pytest.raises(NotFoundError) as info:
        alice.get_session(session_id)
    # The route-level 404 has no details, so the SDK loses the server's message.
    assert info.value.code == "NOT_FOUND"
    assert str(info.value) == "Resource not found"
    assert alice.session_exists(session_id) is False
    # Neither the failed get nor session_exists created it.
    assert session_id not in {s["session_id"] for s in alice.list_sessions()}


def test_get_missing_over_raw_http(base_url: str) -> None:
    response = httpx.get(
        f"{base_url}/api/v1/sessions/nope-{uuid.uuid4().hex[:8]}",
        headers={"X-API-Key": ALICE_KEY}, timeout=10,
    )
    assert response.status_code == 404
    session_id = response.request.url.path.rsplit("/", 1)[1]
    assert response.json() == {
        "status": "error",
        "error": {"code": "NOT_FOUND", "message": f"Session {session_id} not found"},
    }


# -- delete ---------------------------------------------------------------------------------


def test_delete_then_get_raises_not_found(alice: Client) -> None:
    session_id = new_id("del")
    alice.add_message(session_id, "user", "bye")
    assert alice.session_exists(session_id) is True
    assert alice.delete_session(session_id) is None
    with pytest.raises(NotFoundError):
        alice.get_session(session_id)
    assert alice.session_exists(session_id) is False
    assert session_id not in {s["session_id"] for s in alice.list_sessions()}
    # The id can be used again, from scratch.
    assert alice.add_message(session_id, "user", "back")["message_count"] == 1


def test_delete_missing_raises_not_found_with_the_id(alice: Client) -> None:
    session_id = new_id("nodel")
    with pytest.raises(NotFoundError) as info:
        alice.delete_session(session_id)
    assert info.value.code == "NOT_FOUND"
    assert str(info.value) == f"Session not found: {session_id}"
    assert info.value.details == {"type": "session", "resource": session_id}


# -- list -----------------------------------------------------------------------------------


def test_list_sessions_contains_created_ids(alice: Client, bob: Client) -> None:
    ids = [new_id("list") for _ in range(3)]
    alice.create_session(ids[0])
    alice.add_message(ids[1], "user", "hi")
    alice.batch_add_messages(ids[2], [{"role": "user", "content": "hi"}])
    bobs = new_id("bob-only")
    bob.create_session(bobs)

    listed = alice.list_sessions()
    assert isinstance(listed, list)
    by_id = {item["session_id"]: item for item in listed}
    assert set(ids) | {"a1b2c3d4", "tool-demo"} <= set(by_id)
    assert bobs not in by_id
    for session_id in ids:
        item = by_id[session_id]
        assert item["uri"] == f"viking://user/alice/sessions/{session_id}"
        assert item["is_dir"] is True
        assert isinstance(item["mod_time"], str)
        assert item["mod_time"]
    assert {item["session_id"] for item in bob.list_sessions()} >= {bobs}
    assert not {item["session_id"] for item in bob.list_sessions()} & (set(ids) | {"a1b2c3d4"})


# -- auth -----------------------------------------------------------------------------------


def test_unknown_key_raises_unauthenticated(make_client: t.Callable[..., Client]) -> None:
    client = make_client("not-a-real-key")
    with pytest.raises(UnauthenticatedError) as info:
        client.get_session("a1b2c3d4")
    assert info.value.code == "UNAUTHENTICATED"
    assert str(info.value) == "Invalid API key"
    with pytest.raises(UnauthenticatedError):
        client.list_sessions()
    with pytest.raises(UnauthenticatedError):
        client.add_message(new_id("nokey"), "user", "hi")


def test_missing_key_raises_unauthenticated(make_client: t.Callable[..., Client]) -> None:
    client = make_client(None)
    with pytest.raises(UnauthenticatedError) as info:
        client.create_session(new_id("anon"))
    assert info.value.code == "UNAUTHENTICATED"
    assert str(info.value) == "Missing API Key when resolving identity."


def test_root_key_on_session_routes_is_permission_denied(
    make_client: t.Callable[..., Client],
) -> None:
    root = make_client(ROOT_KEY)
    session_id = new_id("root")
    calls: list[t.Callable[[], t.Any]] = [
        lambda: root.get_session("a1b2c3d4"),
        lambda: root.create_session(session_id),
        lambda: root.add_message(session_id, "user", "hi"),
        lambda: root.list_sessions(),
        lambda: root.delete_session("a1b2c3d4"),
    ]
    for call in calls:
        with pytest.raises(PermissionDeniedError) as info:
            call()
        assert info.value.code == "PERMISSION_DENIED"
        assert str(info.value).startswith("ROOT API keys cannot access tenant-scoped data APIs")


def test_key_provisioned_through_the_admin_route(
    base_url: str, make_client: t.Callable[..., Client], alice: Client,
) -> None:
    account = new_id("acct")
    created = admin_post(
        base_url, "/api/v1/admin/accounts", {"account_id": account, "admin_user_id": "zoe"},
    )
    assert created["account_id"] == account
    assert created["admin_user_id"] == "zoe"
    zoe_key = created["user_key"]
    assert isinstance(zoe_key, str)
    assert zoe_key

    added = admin_post(
        base_url, f"/api/v1/admin/accounts/{account}/users", {"user_id": "zack", "role": "user"},
    )
    assert added["account_id"] == account
    assert added["user_id"] == "zack"
    zack_key = added["user_key"]
    assert zack_key not in (zoe_key, ROOT_KEY)

    zoe = make_client(zoe_key)
    session_id = new_id("prov")
    result = zoe.create_session(session_id)
    assert result["user"]["account_id"] == account
    assert result["user"]["user_id"] == "zoe"
    assert result["uri"] == f"viking://user/zoe/sessions/{session_id}"
    assert zoe.add_message(session_id, "user", "abcdefgh") == {
        "session_id": session_id, "message_count": 1, "pending_tokens": 2,
    }
    got = zoe.get_session(session_id)
    assert got["created_by_account_id"] == account
    assert got["created_by_user_id"] == "zoe"

    # The new account's users are isolated from each other and from "default".
    zack = make_client(zack_key)
    with pytest.raises(NotFoundError):
        zack.get_session(session_id)
    assert zack.add_message(session_id, "user", "x")["message_count"] == 1
    with pytest.raises(NotFoundError):
        alice.get_session(session_id)
    with pytest.raises(NotFoundError):
        zoe.get_session("a1b2c3d4")


def test_admin_route_needs_the_root_key(base_url: str) -> None:
    response = httpx.post(
        f"{base_url}/api/v1/admin/accounts", json={"account_id": new_id("x"), "admin_user_id": "u"},
        headers={"X-API-Key": BOB_KEY}, timeout=10,
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "PERMISSION_DENIED"


# -- isolation ------------------------------------------------------------------------------


def test_sessions_are_isolated_between_users(alice: Client, bob: Client) -> None:
    session_id = new_id("iso")
    alice.add_message(session_id, "user", "alice's secret")

    with pytest.raises(NotFoundError):
        bob.get_session(session_id)
    assert bob.session_exists(session_id) is False
    with pytest.raises(NotFoundError) as info:
        bob.delete_session(session_id)
    assert str(info.value) == f"Session not found: {session_id}"

    # Bob may use the same id for a session of his own.
    created = bob.create_session(session_id)
    assert created["uri"] == f"viking://user/bob/sessions/{session_id}"
    assert bob.add_message(session_id, "user", "bob")["message_count"] == 1
    assert bob.add_message(session_id, "user", "bob again")["message_count"] == 2

    mine = alice.get_session(session_id)
    assert mine["message_count"] == 1
    assert mine["created_by_user_id"] == "alice"
    assert bob.get_session(session_id)["created_by_user_id"] == "bob"

    # Deleting bob's copy leaves alice's.
    bob.delete_session(session_id)
    assert alice.get_session(session_id)["message_count"] == 1


def test_seed_sessions_are_isolated_between_accounts(
    bob: Client, make_client: t.Callable[..., Client],
) -> None:
    carol = make_client(CAROL_KEY)
    assert carol.get_session("onboarding")["user"]["account_id"] == "acme"
    for other, session_id in ((carol, "a1b2c3d4"), (bob, "a1b2c3d4"), (bob, "onboarding")):
        with pytest.raises(NotFoundError):
            other.get_session(session_id)
    assert {s["session_id"] for s in carol.list_sessions()} >= {"onboarding"}
    assert "a1b2c3d4" not in {s["session_id"] for s in carol.list_sessions()}


def test_every_sdk_error_is_an_openviking_error(alice: Client) -> None:
    with pytest.raises(OpenVikingError) as info:
        alice.delete_session(new_id("gone"))
    assert type(info.value) is NotFoundError


def test_client_from_the_sdk_constructor_only(base_url: str) -> None:
    """No ovcli.conf and no OPENVIKING_* variable: the explicit arguments are all there is."""
    client = SyncHTTPClient(url=base_url + "/", api_key=BOB_KEY, timeout=10)
    client.initialize()
    try:
        assert client.add_message(new_id("ctor"), "user", "abcd")["pending_tokens"] == 1
    finally:
        client.close()
