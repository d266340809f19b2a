"""Who is calling: the real server's key handling, identity headers and access rules.

In api_key mode (a root key or any user key configured) every non-public route needs a key
in ``X-API-Key`` or ``Authorization: Bearer``; in dev mode identity comes from the
``X-OpenViking-Account`` / ``X-OpenViking-User`` headers. Each app has its own
:class:`Authenticator`, so nothing about callers is kept process-wide.
"""

from __future__ import annotations

import dataclasses
import functools
import typing as t

from mockviking.contract.validation import HeaderSource
from mockviking.domain.errors import DomainError
from mockviking.domain.owners import Owner
from mockviking.domain.rules import check_identifier
from mockviking.domain.store import SessionStore

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


class Authenticator:
    """Resolves callers against one store's keys and mode."""

    #: Dev-mode callers already checked, kept per raw headers (bounded: emptied when full).
    DEV_CACHE_MAX = 1024

    def __init__(self, store: SessionStore) -> None:
        self.store = store
        self._dev: dict[tuple[str, str, str], Identity] = {}

    def authenticate(self, access: str, headers: HeaderSource) -> Identity | None:
        """Resolve the caller for a route of the given access level, or raise the real error.

        ``public`` routes need no key: they get ``None`` when none is sent, and still a 401 for
        a key the server does not know.
        """
        store = self.store
        agent = (
            headers.get("X-OpenViking-Agent", "").strip()
            or headers.get("X-OpenViking-Actor-Peer", "").strip()
            or "default"
        )
        key = extract_key(headers)
        if store.auth_mode == "dev":
            if access == "admin":
                raise DomainError("PERMISSION_DENIED", DEV_MODE_ADMIN)
            if access == "public" and key is None:
                return None
            # Dev mode ignores keys: the caller is whoever the identity headers say.
            return self._dev_identity(
                headers.get("X-OpenViking-Account", ""), headers.get("X-OpenViking-User", ""), agent
            )

        if key is None:
            if access == "public":
                return None
            raise DomainError("UNAUTHENTICATED", MISSING_KEY)
        if store.root_key is not None and key == store.root_key:
            if access == "tenant":
                raise DomainError("PERMISSION_DENIED", ROOT_ON_TENANT)
            return Identity("default", "default", "root", agent)
        record = store.resolve_key(key)
        if record is None:
            raise DomainError("UNAUTHENTICATED", INVALID_KEY)
        return Identity(record.account_id, record.user_id, record.role, agent)

    def _dev_identity(self, account: str, user: str, agent: str) -> Identity:
        # A client sends the same few identity headers on every request: check them once.
        cached = self._dev.get((account, user, agent))
        if cached is not None:
            return cached
        account_id = account.strip() or "default"
        check_identifier(account_id, "account_id")
        user_id = user.strip() or "default"
        check_identifier(user_id, "user_id")
        identity = Identity(account_id, user_id, "root", agent)
        if len(self._dev) >= self.DEV_CACHE_MAX:
            self._dev.clear()
        self._dev[(account, user, agent)] = identity
        return identity

    def peek(self, headers: HeaderSource) -> Identity | None:
        """Who the caller seems to be, without raising: fault rules match on it before auth."""
        store = self.store
        if store.auth_mode == "dev":
            return Identity(
                headers.get("X-OpenViking-Account", "").strip() or "default",
                headers.get("X-OpenViking-User", "").strip() or "default",
                "root",
            )
        key = extract_key(headers)
        record = store.resolve_key(key) if key else None
        return Identity(record.account_id, record.user_id, record.role) if record else None
