"""Who is calling: the real server's key handling, identity headers and access rules.

In api_key mode (a root key or any user key configured) every non-public route needs a key
in ``X-API-Key`` or ``Authorization: Bearer``; in dev mode identity comes from the
``X-OpenViking-Account`` / ``X-OpenViking-User`` headers. No Flask here.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import typing as t

from mockviking.domain.errors import ApiError
from mockviking.domain.store import Owner, SessionStore

_IDENTIFIER = re.compile(r"^[a-zA-Z0-9_.@-]+$")

MISSING_KEY = "Missing API Key when resolving identity."
INVALID_KEY = "Invalid API key"
DEV_MODE_ADMIN = (
    "Admin API requires api_key mode with root_api_key configured. Development mode does not "
    "support account or user management. You should set server.auth_mode = \"api_key\" in ov.conf"
)
ROOT_ON_TENANT = (
    "ROOT API keys cannot access tenant-scoped data APIs in api_key mode. Use a user/admin "
    "API key for data access, or trusted mode for upstream identity assertion."
)


class HeaderSource(t.Protocol):
    """Request headers, looked up case-insensitively (a dict or werkzeug's ``Headers``)."""

    def get(self, key: str, default: str) -> str:
        """The header's value, or ``default``."""
        ...


class EnvironHeaders:
    """A :class:`HeaderSource` reading a WSGI environ directly (``X-API-Key`` is ``HTTP_X_API_KEY``).

    What werkzeug's ``request.headers`` does, without building it: every request reads a
    handful of headers, and this is on every request.
    """

    __slots__ = ("_environ",)

    def __init__(self, environ: t.Mapping[str, t.Any]) -> None:
        self._environ = environ

    def get(self, key: str, default: str = "") -> str:
        """The header's value, or ``default``."""
        value = self._environ.get(_cgi_key(key))
        return default if value is None else str(value)


@functools.lru_cache(maxsize=256)
def _cgi_key(name: str) -> str:
    key = name.upper().replace("-", "_")
    return key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"


@dataclasses.dataclass(frozen=True)
class Identity:
    """The caller: account, user, role, and the agent named by the seed's header."""

    account_id: str
    user_id: str
    role: str
    agent_id: str = "default"

    @functools.cached_property
    def owner(self) -> Owner:
        """The namespace this caller's sessions live in."""
        return Owner(self.account_id, self.user_id)


def extract_key(headers: HeaderSource) -> str | None:
    """The key from ``X-API-Key`` (preferred) or ``Authorization: Bearer <key>``."""
    key = headers.get("X-API-Key", "").strip()
    if key:
        return key
    authorization = headers.get("Authorization", "")
    if authorization.startswith("Bearer "):
        return authorization[len("Bearer "):].strip() or None
    return None


def authenticate(store: SessionStore, access: str, headers: HeaderSource) -> Identity | None:
    """Resolve the caller for a route of the given access level, or raise the real error.

    ``public`` routes need no key: they get ``None`` when none is sent, and still a 401 for
    a key the server does not know.
    """
    agent = (
        headers.get("X-OpenViking-Agent", "").strip()
        or headers.get("X-OpenViking-Actor-Peer", "").strip()
        or "default"
    )
    key = extract_key(headers)
    if store.auth_mode == "dev":
        if access == "admin":
            raise ApiError("PERMISSION_DENIED", DEV_MODE_ADMIN)
        if access == "public" and key is None:
            return None
        # Dev mode ignores keys: the caller is whoever the identity headers say.
        return _dev_identity(headers.get("X-OpenViking-Account", ""), headers.get("X-OpenViking-User", ""), agent)

    if key is None:
        if access == "public":
            return None
        raise ApiError("UNAUTHENTICATED", MISSING_KEY)
    if store.root_key is not None and key == store.root_key:
        if access == "tenant":
            raise ApiError("PERMISSION_DENIED", ROOT_ON_TENANT)
        return Identity("default", "default", "root", agent)
    record = store.resolve_key(key)
    if record is None:
        raise ApiError("UNAUTHENTICATED", INVALID_KEY)
    return Identity(record.account_id, record.user_id, record.role, agent)


#: Dev-mode callers already checked, by their raw headers: a client sends the same few on
#: every request. Bounded: emptied when full.
_DEV_IDENTITIES: dict[tuple[str, str, str], Identity] = {}
_DEV_IDENTITIES_MAX = 1024


def _dev_identity(account: str, user: str, agent: str) -> Identity:
    cached = _DEV_IDENTITIES.get((account, user, agent))
    if cached is not None:
        return cached
    account_id = account.strip() or "default"
    check_identifier(account_id, "account_id")
    user_id = user.strip() or "default"
    check_identifier(user_id, "user_id")
    identity = Identity(account_id, user_id, "root", agent)
    if len(_DEV_IDENTITIES) >= _DEV_IDENTITIES_MAX:
        _DEV_IDENTITIES.clear()
    _DEV_IDENTITIES[(account, user, agent)] = identity
    return identity


def check_identifier(value: str, field: str) -> None:
    """Refuse an account or user id the real server would refuse (400 INVALID_ARGUMENT)."""
    reason = identifier_problem(value, field)
    if reason is not None:
        raise ApiError("INVALID_ARGUMENT", reason)


def identifier_problem(value: str, field: str) -> str | None:
    """Why ``value`` is not a valid account or user id (the real server's words), or ``None``."""
    if field == "account_id" and value.startswith("_"):
        return "account_id cannot start with underscore _."
    if not _IDENTIFIER.match(value) or value in (".", "..") or value.count("@") > 1:
        return f"{field} must be alpha_numeric string."
    return None


def peek_identity(store: SessionStore, headers: HeaderSource) -> Identity | None:
    """Who the caller seems to be, without raising: fault rules match on it before auth."""
    if store.auth_mode == "dev":
        return Identity(
            headers.get("X-OpenViking-Account", "").strip() or "default",
            headers.get("X-OpenViking-User", "").strip() or "default",
            "root",
        )
    key = extract_key(headers)
    record = store.resolve_key(key) if key else None
    return Identity(record.account_id, record.user_id, record.role) if record else None
