"""The state's records: accounts and keys, sessions, archives, and the whole state.

Plain dataclasses, changed only by the store under its lock. Counters (message counts,
pending tokens) are kept incrementally, so no request re-scans a session's messages.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

from mockviking.domain.messages import Message
from mockviking.domain.owners import Owner, UserRecord
from mockviking.domain.tasks import CommitScript, Task, TaskPlan

#: The seed's fixed memory categories; always reported, plus any others extracted later.
MEMORY_CATEGORIES = (
    "profile", "preferences", "entities", "events", "cases", "patterns", "tools", "skills",
)
#: The counters of the LLM usage the real server reports per session and per commit.
LLM_USAGE_KEYS = (
    "prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens", "reasoning_tokens",
)


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
    retention_mode: str = ""
    keep_recent_turn_count: int = 0
    retained_message_token_budget: int = 0
    min_raw_tail_steps: int = 1
    archives: list[Archive] = dataclasses.field(default_factory=list)
    #: The next commit's phase 2 outcome, when a test scripted it.
    script: CommitScript | None = None
    #: The task of an automatic commit still in flight (at most one per session).
    auto_commit_task: str | None = None

    @property
    def uri(self) -> str:
        """The session's ``viking://`` URI."""
        return f"viking://user/{self.owner.user_id}/sessions/{self.session_id}"

    def archive_uri(self, archive_id: str) -> str:
        """Where the real server keeps one of the session's archives."""
        return f"{self.uri}/history/{archive_id}"

    @property
    def message_count(self) -> int:
        """Live messages."""
        return len(self.messages)


@dataclasses.dataclass
class Archive:
    """Messages moved out of the live list by one commit, and what phase 2 made of them."""

    archive_id: str
    messages: list[Message]
    task_id: str
    #: ``pending`` until phase 2 ends, then ``completed`` or ``failed``.
    status: str = "pending"
    abstract: str = ""
    overview: str = ""

    @property
    def tokens(self) -> int:
        """Estimated tokens of the archived messages."""
        return sum(m.tokens for m in self.messages)


@dataclasses.dataclass
class State:
    """Everything the store holds; replaced whole on reset and on a state import."""


    root_key: str | None = None
    users: dict[tuple[str, str], UserRecord] = dataclasses.field(default_factory=dict)
    #: account id -> creation time (the real server always has a ``default`` account).
    accounts: dict[str, str] = dataclasses.field(default_factory=dict)
    keys: dict[str, UserRecord] = dataclasses.field(default_factory=dict)
    sessions: dict[Owner, dict[str, Session]] = dataclasses.field(default_factory=dict)
    tasks: dict[str, Task] = dataclasses.field(default_factory=dict)
    #: Messages (live and archived) each user stores, for the per-user cap.
    message_totals: dict[Owner, int] = dataclasses.field(default_factory=dict)
    #: Ids of the tasks not finished yet, oldest first.
    open_tasks: list[str] = dataclasses.field(default_factory=list)
    task_plan: TaskPlan = dataclasses.field(default_factory=TaskPlan)


@dataclasses.dataclass
class Limits:
    """Caps that keep a mock's memory bounded: exceeding a count is RESOURCE_EXHAUSTED."""

    max_sessions_per_user: int | None = None
    max_messages_per_user: int | None = None
    #: Longest session id stored (``None``: no limit); a longer one is INVALID_ARGUMENT.
    max_id_length: int | None = None
