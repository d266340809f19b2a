"""Sessions and their live messages: create, look up, list, append, configure, delete.

An append costs O(messages appended), whatever the session holds: counters and pending
tokens are updated incrementally (turn-mode retention re-sums its keep window only).
"""

from __future__ import annotations

import typing as t

from mockviking.domain import rules
from mockviking.domain.accounts import AccountRegistry
from mockviking.domain.clock import message_timestamp, meta_of_message_timestamp, meta_timestamp
from mockviking.domain.context import turn_mode_pending
from mockviking.domain.errors import DomainError, already_exists, session_not_found
from mockviking.domain.messages import Message, MessageDraft, fill_group_ids
from mockviking.domain.models import Session
from mockviking.domain.owners import Owner


class Keep:
    """Marks a config field the request did not mention."""


KEEP: t.Final = Keep()

#: Counters a fixture or test may overwrite directly (the dict-valued ones merge).
SETTABLE_COUNTERS = frozenset({
    "commit_count", "last_commit_at", "embedding_tokens", "pending_tokens", "total_message_count",
    "keep_recent_count", "created_at", "updated_at", "last_message_at", "last_auto_commit_at",
})


class SessionBook(AccountRegistry):
    """The store's sessions and their live messages."""

    def new_session_id(self) -> str:
        """A generated id in the real server's form, ``YYYYMMDD-HHMMSS-<16 hex>``."""
        with self._lock:
            return f"{self.clock():%Y%m%d-%H%M%S}-{self._rng.getrandbits(64):016x}"

    def create_session(
        self,
        owner: Owner,
        session_id: str | None = None,
        *,
        memory_policy: t.Mapping[str, t.Any] | None = None,
        auto_commit_policy: t.Mapping[str, int] | None = None,
        memory_extraction_config: t.Mapping[str, t.Any] | None = None,
    ) -> Session:
        """A new empty session; an id that exists for this owner is refused."""
        with self._lock:
            if session_id:
                rules.check_session_id(session_id, owner.user_id, self.limits.max_id_length)
            sid = session_id or self.new_session_id()
            sessions = self._state.sessions.setdefault(owner, {})
            if sid in sessions:
                raise already_exists(f"Session '{sid}' already exists")
            cap = self.limits.max_sessions_per_user
            if cap is not None and len(sessions) >= cap:
                raise DomainError(
                    "RESOURCE_EXHAUSTED",
                    f"Session limit reached: {owner.account_id}/{owner.user_id} already has {cap} sessions "
                    "(mockviking's max_sessions_per_user)",
                    {"limit": cap, "resource": "sessions"},
                )
            session = self._new_session(owner, sid)
            # As the real server stores them: defaults filled in, values clamped, tags normalised.
            session.memory_policy = rules.memory_policy(memory_policy) if memory_policy is not None else None
            session.auto_commit_policy = (
                rules.clamp_policy(auto_commit_policy) if auto_commit_policy is not None else None
            )
            if memory_extraction_config is not None:
                session.memory_extraction_config = rules.extraction_config(memory_extraction_config)
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
        """The session, created empty (if its id is one the real server stores) if it did not exist."""
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
            session = self.require_session(owner, session_id)
            stored = len(session.messages) + sum(len(a.messages) for a in session.archives)
            totals = self._state.message_totals
            totals[owner] = max(0, totals.get(owner, 0) - stored)
            del self._state.sessions[owner][session_id]

    def add_messages(self, owner: Owner, session_id: str, drafts: t.Sequence[MessageDraft]) -> Session:
        """Append messages atomically, creating the session if needed."""
        with self._lock:
            cap = self.limits.max_messages_per_user
            total = self._state.message_totals.get(owner, 0)
            if cap is not None and total + len(drafts) > cap:
                raise DomainError(
                    "RESOURCE_EXHAUSTED",
                    f"Message limit reached: {owner.account_id}/{owner.user_id} stores {total} messages and "
                    f"may store {cap} (mockviking's max_messages_per_user)",
                    {"limit": cap, "resource": "messages"},
                )
            session = self.get_or_create_session(owner, session_id)
            self._state.message_totals[owner] = total + len(drafts)
            now = self.clock()
            default_created = message_timestamp(now)
            stored: list[tuple[MessageDraft, Message]] = []
            getrandbits, live = self._rng.getrandbits, session.messages
            append, keep, by_count = live.append, session.keep_recent_count, not session.retention_mode
            grouped = False
            for draft in drafts:
                # Positional, in Message's field order: this loop runs for every stored message.
                message = Message(
                    f"msg_{getrandbits(128):032x}",
                    draft.role,
                    draft.parts,
                    draft.created_at if draft.created_at is not None else default_created,
                    draft.peer_id,
                    draft.turn_id,
                    draft.message_kind,
                    draft.source_message_ids,
                    draft.tokens,
                )
                append(message)
                stored.append((draft, message))
                grouped = grouped or draft.grouped
                if by_count and len(live) > keep:
                    # The message pushed out of the keep window starts to count.
                    session.pending_tokens += live[-1 - keep].tokens
            if grouped:
                fill_group_ids(stored)
            if session.retention_mode:
                session.pending_tokens = turn_mode_pending(session)
            session.total_message_count += len(drafts)
            if drafts:
                stamp = meta_of_message_timestamp(default_created)
                session.last_message_at = stamp
                session.updated_at = stamp
            session.mod_time = now
            return session

    def update_config(
        self,
        owner: Owner,
        session_id: str,
        *,
        auto_commit_policy: t.Mapping[str, int] | None | Keep = KEEP,
        memory_extraction_config: t.Mapping[str, t.Any] | Keep = KEEP,
    ) -> Session:
        """Merge a config change: a policy object merges field by field; ``None`` disables."""
        with self._lock:
            session = self.require_session(owner, session_id)
            if not isinstance(auto_commit_policy, Keep):
                if auto_commit_policy is None:
                    session.auto_commit_policy = None
                else:
                    clamped = rules.clamp_policy(auto_commit_policy)
                    session.auto_commit_policy = {**(session.auto_commit_policy or {}), **clamped}
            if not isinstance(memory_extraction_config, Keep):
                session.memory_extraction_config = rules.extraction_config(memory_extraction_config)
            now = self.clock()
            session.updated_at = meta_timestamp(now)
            session.mod_time = now
            return session

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
                elif name in SETTABLE_COUNTERS:
                    setattr(session, name, value)
                else:
                    raise ValueError(f"unknown session counter {name!r}")
            return session
