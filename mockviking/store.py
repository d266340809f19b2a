"""All mutable state of a mockviking server: accounts, keys and sessions, behind one lock.

The store is plain Python (no Flask), so tests, the pytest plugin and the HTTP layer share
the same object. Counters (message counts, pending tokens) are kept incrementally: no
request ever re-scans a session's messages. Time and randomness are injected, so a seeded
store produces the same ids and timestamps every run.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import datetime as dt
import random
import threading
import typing as t

from .errors import ApiError, already_exists, session_not_found
from .messages import Message, MessageDraft, fill_group_ids

Clock = t.Callable[[], dt.datetime]

#: The seed's fixed memory categories; always reported, plus any others extracted later.
MEMORY_CATEGORIES = (
    "profile", "preferences", "entities", "events", "cases", "patterns", "tools", "skills",
)
LLM_USAGE_KEYS = (
    "prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens", "reasoning_tokens",
)
ROLES = ("root", "admin", "user")


def utc_now() -> dt.datetime:
    """The default clock."""
    return dt.datetime.now(dt.timezone.utc)


def meta_timestamp(moment: dt.datetime) -> str:
    """Session timestamps as the real server writes them: UTC, milliseconds, ``Z``."""
    moment = moment.astimezone(dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def message_timestamp(moment: dt.datetime) -> str:
    """Default message ``created_at``: Python's ``isoformat`` in UTC (``+00:00``)."""
    return moment.astimezone(dt.timezone.utc).isoformat()


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


@dataclasses.dataclass
class Session:
    """One session; ``messages`` holds the live (not yet archived) messages only."""

    session_id: str
    owner: Owner
    created_at: str
    updated_at: str
    mod_time: dt.datetime
    messages: list[Message] = dataclasses.field(default_factory=list)
    total_message_count: int = 0
    commit_count: int = 0
    memories_extracted: dict[str, int] = dataclasses.field(
        default_factory=lambda: dict.fromkeys((*MEMORY_CATEGORIES, "total"), 0)
    )
    last_commit_at: str = ""
    llm_token_usage: dict[str, int] = dataclasses.field(
        default_factory=lambda: dict.fromkeys(LLM_USAGE_KEYS, 0)
    )
    embedding_tokens: int = 0
    pending_tokens: int = 0
    keep_recent_count: int = 0
    memory_policy: dict[str, t.Any] | None = None
    auto_commit_policy: dict[str, int] | None = None
    memory_extraction_config: dict[str, t.Any] = dataclasses.field(
        default_factory=lambda: {"events": {"tags": []}}
    )
    last_message_at: str = ""
    last_auto_commit_at: str = ""
    last_idle_commit_accepted_at: str = ""

    @property
    def uri(self) -> str:
        """The session's ``viking://`` URI."""
        return f"viking://user/{self.owner.user_id}/sessions/{self.session_id}"

    @property
    def message_count(self) -> int:
        """Live messages."""
        return len(self.messages)


@dataclasses.dataclass
class _State:
    root_key: str | None = None
    users: dict[tuple[str, str], UserRecord] = dataclasses.field(default_factory=dict)
    #: account id -> creation time (the real server always has a ``default`` account).
    accounts: dict[str, str] = dataclasses.field(default_factory=dict)
    keys: dict[str, UserRecord] = dataclasses.field(default_factory=dict)
    sessions: dict[Owner, dict[str, Session]] = dataclasses.field(default_factory=dict)


class SessionStore:
    """Thread-safe in-memory state with an explicit baseline to reset to."""

    def __init__(self, *, clock: Clock | None = None, seed: int | None = None) -> None:
        self.clock: Clock = clock or utc_now
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._state = self._empty_state()
        self._baseline = copy.deepcopy(self._state)

    def _empty_state(self) -> _State:
        state = _State()
        state.accounts["default"] = message_timestamp(self.clock())
        return state

    @property
    def lock(self) -> threading.RLock:
        """Hold it to read several things as one consistent snapshot."""
        return self._lock

    # -- baseline ---------------------------------------------------------------------

    def mark_baseline(self) -> None:
        """Remember the current state as what :meth:`reset` returns to."""
        with self._lock:
            self._baseline = copy.deepcopy(self._state)

    def reset(self) -> None:
        """Return to the baseline (the loaded fixtures), dropping everything since."""
        with self._lock:
            self._state = copy.deepcopy(self._baseline)

    def clear(self) -> None:
        """Forget everything, baseline included."""
        with self._lock:
            self._state = self._empty_state()
            self._baseline = copy.deepcopy(self._state)

    # -- keys and accounts ------------------------------------------------------------

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
            if account_id in self._state.accounts:
                raise ApiError(
                    "ALREADY_EXISTS",
                    f"Account already exists: {account_id}",
                    {"resource": account_id, "type": "account"},
                )
            self._state.accounts[account_id] = message_timestamp(self.clock())
            return self._add_user(account_id, admin_user_id, "admin", key)

    def create_user(self, account_id: str, user_id: str, role: str = "user", *, key: str | None = None) -> UserRecord:
        """A new user in an existing account."""
        with self._lock:
            if (account_id, user_id) in self._state.users:
                raise ApiError(
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
        record = UserRecord(account_id, user_id, role, key)
        self._state.users[(account_id, user_id)] = record
        self._state.keys[key] = record
        return record

    def _new_key(self, account_id: str, user_id: str) -> str:
        def b64(text: str) -> str:
            return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

        return f"{b64(account_id)}.{b64(user_id)}.{self._rng.getrandbits(256):064x}"

    # -- sessions ---------------------------------------------------------------------

    def new_session_id(self) -> str:
        """A generated id in the real server's form, ``YYYYMMDD-HHMMSS-<16 hex>``."""
        with self._lock:
            return f"{self.clock():%Y%m%d-%H%M%S}-{self._rng.getrandbits(64):016x}"

    def create_session(
        self,
        owner: Owner,
        session_id: str | None = None,
        *,
        memory_policy: dict[str, t.Any] | None = None,
        auto_commit_policy: dict[str, int] | None = None,
        memory_extraction_config: dict[str, t.Any] | None = None,
    ) -> Session:
        """A new empty session; an id that exists for this owner is refused."""
        with self._lock:
            sid = session_id or self.new_session_id()
            sessions = self._state.sessions.setdefault(owner, {})
            if sid in sessions:
                raise already_exists(f"Session '{sid}' already exists")
            session = self._new_session(owner, sid)
            session.memory_policy = memory_policy
            session.auto_commit_policy = auto_commit_policy
            if memory_extraction_config is not None:
                session.memory_extraction_config = memory_extraction_config
            sessions[sid] = session
            return session

    def _new_session(self, owner: Owner, session_id: str) -> Session:
        now = self.clock()
        stamp = meta_timestamp(now)
        return Session(session_id, owner, stamp, stamp, now)

    def get_session(self, owner: Owner, session_id: str) -> Session | None:
        """The session, or ``None``."""
        return self._state.sessions.get(owner, {}).get(session_id)

    def get_or_create_session(self, owner: Owner, session_id: str) -> Session:
        """The session, created empty if it did not exist."""
        with self._lock:
            session = self.get_session(owner, session_id)
            if session is None:
                session = self.create_session(owner, session_id)
            return session

    def require_session(self, owner: Owner, session_id: str) -> Session:
        """The session, or the service layer's NOT_FOUND error."""
        session = self.get_session(owner, session_id)
        if session is None:
            raise session_not_found(session_id)
        return session

    def list_sessions(self, owner: Owner) -> list[Session]:
        """The owner's sessions, most recently changed first, as the real storage lists them.

        Its modification times have whole seconds; within a second, ids sort alphabetically
        regardless of case.
        """
        with self._lock:
            sessions = list(self._state.sessions.get(owner, {}).values())
        return sorted(
            sessions, key=lambda s: (-int(s.mod_time.timestamp()), s.session_id.lower())
        )

    def delete_session(self, owner: Owner, session_id: str) -> None:
        """Remove the session and all it holds."""
        with self._lock:
            self.require_session(owner, session_id)
            del self._state.sessions[owner][session_id]

    def add_messages(self, owner: Owner, session_id: str, drafts: t.Sequence[MessageDraft]) -> Session:
        """Append messages atomically, creating the session if needed."""
        with self._lock:
            session = self.get_or_create_session(owner, session_id)
            now = self.clock()
            default_created = message_timestamp(now)
            stored: list[tuple[MessageDraft, Message]] = []
            for draft in drafts:
                message = Message(
                    id=f"msg_{self._rng.getrandbits(128):032x}",
                    role=draft.role,
                    parts=draft.parts,
                    created_at=draft.created_at if draft.created_at is not None else default_created,
                    peer_id=draft.peer_id,
                    turn_id=draft.turn_id,
                    message_kind=draft.message_kind,
                    source_message_ids=draft.source_message_ids,
                    tokens=draft.tokens,
                )
                session.messages.append(message)
                stored.append((draft, message))
                session.pending_tokens += self._tokens_leaving_keep_window(session)
            fill_group_ids(stored)
            session.total_message_count += len(drafts)
            if drafts:
                stamp = meta_timestamp(now)
                session.last_message_at = stamp
                session.updated_at = stamp
            session.mod_time = now
            return session

    @staticmethod
    def _tokens_leaving_keep_window(session: Session) -> int:
        """Tokens that start to count after an append: the message pushed out of the window."""
        keep = session.keep_recent_count
        if len(session.messages) <= keep:
            return 0
        return session.messages[-1 - keep].tokens

    def set_counters(self, owner: Owner, session_id: str, **counters: t.Any) -> Session:
        """Overwrite a session's counters (fixtures and tests use this to seed history)."""
        with self._lock:
            session = self.require_session(owner, session_id)
            for name, value in counters.items():
                if name == "memories_extracted":
                    merged = dict(session.memories_extracted)
                    merged.update(value)
                    if "total" not in value:
                        merged["total"] = sum(v for k, v in merged.items() if k != "total")
                    session.memories_extracted = merged
                elif name == "llm_token_usage":
                    session.llm_token_usage = {**session.llm_token_usage, **value}
                elif name in _SETTABLE_COUNTERS:
                    setattr(session, name, value)
                else:
                    raise ValueError(f"unknown session counter {name!r}")
            return session


_SETTABLE_COUNTERS = frozenset({
    "commit_count", "last_commit_at", "embedding_tokens", "pending_tokens", "total_message_count",
    "keep_recent_count", "created_at", "updated_at", "last_message_at", "last_auto_commit_at",
})
