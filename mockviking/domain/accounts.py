"""Accounts, users and their keys: who may call, and in which account.

Keys resolve in one dict look-up (every request does it). Generated keys have the real
server's shape, ``<b64 account>.<b64 user>.<hex>``, drawn from the store's seeded generator.
"""

from __future__ import annotations

import base64

from mockviking.domain.base import StoreBase
from mockviking.domain.clock import message_timestamp
from mockviking.domain.errors import DomainError
from mockviking.domain.owners import ROLES, UserRecord
from mockviking.domain.rules import check_identifier


class AccountRegistry(StoreBase):
    """The store's accounts and keys."""

    @property
    def root_key(self) -> str | None:
        """The root key, if one is configured."""
        return self._state.root_key

    def set_root_key(self, key: str | None) -> None:
        """Configure (or remove) the root key."""
        with self._lock:
            self._state.root_key = key or None

    @property
    def auth_mode(self) -> str:
        """``api_key`` once any key exists, ``dev`` otherwise (as the real server decides)."""
        state = self._state
        return "api_key" if state.root_key or state.keys else "dev"

    def resolve_key(self, key: str) -> UserRecord | None:
        """The user a key belongs to, or ``None`` for an unknown key."""
        return self._state.keys.get(key)

    def account_exists(self, account_id: str) -> bool:
        """Whether the account was created."""
        return account_id in self._state.accounts

    def create_account(self, account_id: str, admin_user_id: str, *, key: str | None = None) -> UserRecord:
        """A new account with its first (admin) user."""
        with self._lock:
            check_identifier(account_id, "account_id")
            check_identifier(admin_user_id, "user_id")
            if account_id in self._state.accounts:
                raise DomainError(
                    "ALREADY_EXISTS",
                    f"Account already exists: {account_id}",
                    {"resource": account_id, "type": "account"},
                )
            self._state.accounts[account_id] = message_timestamp(self.clock())
            return self._add_user(account_id, admin_user_id, "admin", key)

    def create_user(self, account_id: str, user_id: str, role: str = "user", *, key: str | None = None) -> UserRecord:
        """A new user in an existing account."""
        with self._lock:
            check_identifier(user_id, "user_id")
            if (account_id, user_id) in self._state.users:
                raise DomainError(
                    "ALREADY_EXISTS",
                    f"User already exists: {user_id}",
                    {"resource": user_id, "type": "user"},
                )
            return self._add_user(account_id, user_id, role, key)

    def user_key(self, account_id: str, user_id: str, role: str = "user") -> str:
        """The key of a user, registering the account and user first if needed."""
        with self._lock:
            record = self._state.users.get((account_id, user_id))
            if record is not None:
                return record.key
            check_identifier(account_id, "account_id")
            check_identifier(user_id, "user_id")
            self._state.accounts.setdefault(account_id, message_timestamp(self.clock()))
            return self._add_user(account_id, user_id, role, None).key

    def users(self, account_id: str | None = None) -> list[UserRecord]:
        """Registered users, of one account or of all."""
        with self._lock:
            return [
                u for u in self._state.users.values()
                if account_id is None or u.account_id == account_id
            ]

    def accounts(self) -> dict[str, str]:
        """Account ids with their creation times, oldest first."""
        with self._lock:
            return dict(self._state.accounts)

    def _add_user(self, account_id: str, user_id: str, role: str, key: str | None) -> UserRecord:
        if key is None:
            key = self._new_key(account_id, user_id)
        elif key in self._state.keys or key == self._state.root_key:
            raise ValueError("this key is already in use")
        if role not in ROLES:
            raise DomainError("INVALID_ARGUMENT", f"role must be one of {', '.join(ROLES)}, not {role!r}")
        record = UserRecord(account_id, user_id, role, key)
        self._state.users[(account_id, user_id)] = record
        self._state.keys[key] = record
        return record

    def _new_key(self, account_id: str, user_id: str) -> str:
        def b64(text: str) -> str:
            return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

        return f"{b64(account_id)}.{b64(user_id)}.{self._rng.getrandbits(256):064x}"
