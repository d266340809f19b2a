"""Keys, modes and identities, with the real server's statuses and messages."""

from __future__ import annotations

import pytest

from .conftest import ALICE_KEY, BOB, ROOT, Client, error, ok

MISSING = "Missing API Key when resolving identity."
INVALID = "Invalid API key"


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, MISSING),
        ({"X-API-Key": ""}, MISSING),
        ({"Authorization": ALICE_KEY}, MISSING),  # no "Bearer " prefix
        ({"Authorization": f"bearer {ALICE_KEY}"}, MISSING),  # the prefix is case-sensitive
        ({"X-API-Key": "nope"}, INVALID),
        ({"Authorization": "Bearer nope"}, INVALID),
    ],
)
def test_unauthenticated(client: Client, headers: dict[str, str], message: str) -> None:
    response = client.get("/api/v1/sessions", headers=headers)
    assert response.status_code == 401
    assert response.get_json() == {
        "status": "error", "result": None,
        "error": {"code": "UNAUTHENTICATED", "message": message, "details": {}},
        "telemetry": None, "profile": None,
    }


def test_bearer_and_header_keys(client: Client) -> None:
    ok(client.get("/api/v1/sessions", headers={"Authorization": f"Bearer {ALICE_KEY}"}))
    # X-API-Key wins over a bad Bearer value.
    ok(client.get("/api/v1/sessions", headers={"X-API-Key": ALICE_KEY, "Authorization": "Bearer nope"}))


def test_root_key_is_refused_on_session_routes(client: Client) -> None:
    for method, path in [("GET", "/api/v1/sessions"), ("GET", "/api/v1/sessions/a1b2c3d4"),
                         ("POST", "/api/v1/sessions/x/messages"), ("DELETE", "/api/v1/sessions/x")]:
        err = error(client.open(path, method=method, headers=ROOT, json={"role": "user", "content": "x"}),
                    403, "PERMISSION_DENIED")
        assert err["message"].startswith("ROOT API keys cannot access tenant-scoped data APIs in api_key mode.")


def test_identity_headers_are_ignored_with_a_key(client: Client) -> None:
    headers = {**BOB, "X-OpenViking-Account": "default", "X-OpenViking-User": "alice"}
    assert ok(client.get("/api/v1/sessions", headers=headers)) == []


def test_health(client: Client) -> None:
    base = {"status": "ok", "healthy": True, "version": "0.5.2", "auth_mode": "api_key"}
    assert client.get("/health").get_json() == base
    assert client.get("/health", headers={"X-API-Key": ALICE_KEY}).get_json() == {
        **base, "account_id": "default", "user_id": "alice", "role": "admin"}
    assert client.get("/health", headers=BOB).get_json()["role"] == "user"
    assert client.get("/health", headers=ROOT).get_json() == {
        **base, "account_id": "default", "user_id": "default", "role": "root"}
    error(client.get("/health", headers={"X-API-Key": "nope"}), 401, "UNAUTHENTICATED")


def test_dev_mode_identity_from_headers(dev_client: Client) -> None:
    health = dev_client.get("/health").get_json()
    assert health == {"status": "ok", "healthy": True, "version": "0.5.2", "auth_mode": "dev"}
    assert ok(dev_client.get("/api/v1/sessions/welcome"))["user"] == {
        "account_id": "default", "user_id": "default", "agent_id": "default"}
    # Keys are ignored in dev mode; the headers say who is calling.
    ok(dev_client.get("/api/v1/sessions/welcome", headers={"X-API-Key": "anything"}))
    other = {"X-OpenViking-Account": "acme", "X-OpenViking-User": "bob"}
    error(dev_client.get("/api/v1/sessions/welcome", headers=other), 404, "NOT_FOUND")
    ok(dev_client.post("/api/v1/sessions/welcome/messages", headers=other, json={"role": "user", "content": "x"}))
    assert ok(dev_client.get("/api/v1/sessions/welcome", headers=other))["message_count"] == 1
    assert ok(dev_client.get("/api/v1/sessions/welcome"))["message_count"] == 2


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"X-OpenViking-Account": "_bad"}, "account_id cannot start with underscore _."),
        ({"X-OpenViking-User": "bad user!"}, "user_id must be alpha_numeric string."),
        ({"X-OpenViking-User": "a@b@c"}, "user_id must be alpha_numeric string."),
    ],
)
def test_dev_mode_bad_identity(dev_client: Client, headers: dict[str, str], message: str) -> None:
    err = error(dev_client.get("/api/v1/sessions", headers=headers), 400, "INVALID_ARGUMENT")
    assert err == {"code": "INVALID_ARGUMENT", "message": message, "details": {}}


def test_dev_mode_has_no_admin_api(dev_client: Client) -> None:
    err = error(dev_client.post("/api/v1/admin/accounts", json={"account_id": "a", "admin_user_id": "b"}),
                403, "PERMISSION_DENIED")
    assert err["message"].startswith("Admin API requires api_key mode with root_api_key configured.")
