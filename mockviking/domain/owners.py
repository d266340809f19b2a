"""Who owns what: state is isolated per (account, user), and keys belong to users."""

from __future__ import annotations

import dataclasses

#: The real server's roles, most powerful first.
ROLES = ("root", "admin", "user")


@dataclasses.dataclass(frozen=True)
class Owner:
    """Who a session belongs to: sessions are isolated per (account, user)."""

    account_id: str
    user_id: str


@dataclasses.dataclass(frozen=True)
class UserRecord:
    """A registered user and the key that identifies them."""

    account_id: str
    user_id: str
    role: str
    key: str
