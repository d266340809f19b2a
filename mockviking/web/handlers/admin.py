"""Admin operations: accounts and their users, with the real server's scope rules."""

from __future__ import annotations

import typing as t

from mockviking.domain.errors import DomainError
from mockviking.domain.store import SessionStore
from mockviking.web.auth import Identity
from mockviking.web.handlers.registry import Call, operation


@operation
def create_account(call: Call) -> dict[str, t.Any]:
    # The contract has already refused ids the real server refuses, in its words.
    account_id, admin_user_id = call.body["account_id"], call.body["admin_user_id"]
    record = call.store.create_account(account_id, admin_user_id)
    return {"account_id": account_id, "admin_user_id": admin_user_id, "user_key": record.key}


@operation
def list_accounts(call: Call) -> list[dict[str, t.Any]]:
    store = call.store
    with store.lock:
        return [
            {
                "account_id": account_id,
                "created_at": created_at,
                "user_count": len(store.users(account_id)),
                "status": "active",
            }
            for account_id, created_at in store.accounts().items()
        ]


def _check_account_scope(caller: Identity, account_id: str) -> None:
    if caller.role == "admin" and caller.account_id != account_id:
        raise DomainError("PERMISSION_DENIED", f"ADMIN can only manage account: {caller.account_id}")


def _require_account(store: SessionStore, account_id: str) -> None:
    if not store.account_exists(account_id):
        raise DomainError(
            "NOT_FOUND",
            f"Account not found: {account_id}",
            {"type": "account", "resource": account_id},
        )


@operation
def list_users(call: Call) -> list[dict[str, t.Any]]:
    account_id = call.params["account_id"]
    _check_account_scope(call.caller, account_id)
    _require_account(call.store, account_id)
    return [
        {"user_id": u.user_id, "role": u.role, "api_key": u.key}
        for u in call.store.users(account_id)
    ]


@operation
def create_user(call: Call) -> dict[str, t.Any]:
    account_id = call.params["account_id"]
    _check_account_scope(call.caller, account_id)
    # The contract has already refused a bad user id or role, in the real server's words.
    user_id = call.body["user_id"]
    role = call.body.get("role", "user")
    _require_account(call.store, account_id)
    record = call.store.create_user(account_id, user_id, role)
    return {"account_id": account_id, "user_id": user_id, "user_key": record.key}
