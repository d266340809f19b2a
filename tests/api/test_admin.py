"""Key provisioning as the real server does it: root, then admins within their account."""

from __future__ import annotations

import pytest

from .conftest import ALICE, BOB, ROOT, Client, error, key, ok


def test_root_provisions_an_account_whose_key_works(client: Client) -> None:
    created = ok(client.post("/api/v1/admin/accounts", headers=ROOT,
                             json={"account_id": "acct1", "admin_user_id": "dana"}))
    assert created["account_id"] == "acct1"
    assert created["admin_user_id"] == "dana"
    assert created["user_key"].startswith("YWNjdDE.ZGFuYQ.")
    dana = key(created["user_key"])
    assert client.get("/health", headers=dana).get_json()["role"] == "admin"
    ok(client.post("/api/v1/sessions/s/messages", headers=dana, json={"role": "user", "content": "hi"}))
    user = ok(client.post("/api/v1/admin/accounts/acct1/users", headers=dana, json={"user_id": "erin"}))
    assert set(user) == {"account_id", "user_id", "user_key"}
    assert client.get("/health", headers=key(user["user_key"])).get_json()["role"] == "user"
    listed = ok(client.get("/api/v1/admin/accounts/acct1/users", headers=dana))
    assert [(u["user_id"], u["role"]) for u in listed] == [("dana", "admin"), ("erin", "user")]
    accounts = ok(client.get("/api/v1/admin/accounts", headers=ROOT))
    assert [(a["account_id"], a["user_count"], a["status"]) for a in accounts] == [
        ("default", 2, "active"), ("acme", 1, "active"), ("acct1", 2, "active")]


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "status", "code", "message"),
    [
        ("POST", "/api/v1/admin/accounts", ROOT, {"account_id": "acme", "admin_user_id": "x"},
         409, "ALREADY_EXISTS", "Account already exists: acme"),
        ("POST", "/api/v1/admin/accounts", ALICE, {"account_id": "n", "admin_user_id": "x"},
         403, "PERMISSION_DENIED", "Requires role: root"),
        ("POST", "/api/v1/admin/accounts", ROOT, {"account_id": "_n", "admin_user_id": "x"},
         400, "INVALID_ARGUMENT", "account_id cannot start with underscore _."),
        ("POST", "/api/v1/admin/accounts", ROOT, {"account_id": "n", "admin_user_id": "bad user!"},
         400, "INVALID_ARGUMENT", "user_id must be alpha_numeric string."),
        ("POST", "/api/v1/admin/accounts/default/users", ROOT, {"user_id": "bob"},
         409, "ALREADY_EXISTS", "User already exists: bob"),
        ("POST", "/api/v1/admin/accounts/default/users", ROOT, {"user_id": "z", "role": "superuser"},
         400, "INVALID_ARGUMENT", "Account user role must be user or admin."),
        ("POST", "/api/v1/admin/accounts/acme/users", ALICE, {"user_id": "z"},
         403, "PERMISSION_DENIED", "ADMIN can only manage account: default"),
        ("POST", "/api/v1/admin/accounts/default/users", BOB, {"user_id": "z"},
         403, "PERMISSION_DENIED", "Requires role: root, admin"),
        ("POST", "/api/v1/admin/accounts/nosuch/users", ROOT, {"user_id": "z"},
         404, "NOT_FOUND", "Account not found: nosuch"),
        ("POST", "/api/v1/admin/accounts", {}, {"account_id": "n", "admin_user_id": "x"},
         401, "UNAUTHENTICATED", "Missing API Key when resolving identity."),
        ("GET", "/api/v1/admin/accounts", ALICE, None, 403, "PERMISSION_DENIED", "Requires role: root"),
    ],
)
def test_admin_errors(client: Client, method: str, path: str, headers: dict[str, str],
                      body: object, status: int, code: str, message: str) -> None:
    response = client.open(path, method=method, headers=headers, json=body)
    err = error(response, status, code)
    assert err["message"] == message
    assert response.get_json()["result"] is None  # the service envelope


def test_admin_validation_lists_every_missing_field(client: Client) -> None:
    err = error(client.post("/api/v1/admin/accounts", headers=ROOT, json={}), 400, "INVALID_ARGUMENT")
    assert [e["loc"] for e in err["details"]["validation_errors"]] == [
        ["body", "account_id"], ["body", "admin_user_id"]]
