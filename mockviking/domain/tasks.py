"""Background-task records, and the controls that decide when a commit's task finishes.

The real server runs phase 2 of a commit (memory extraction) as a background task and
clients poll it. mockviking runs no threads for it: a task advances when it is looked at,
according to its plan, so tests decide exactly when it finishes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

from mockviking.domain.owners import Owner

#: How a commit task finishes: at once, after some polls, after a delay, or when released.
COMPLETION_MODES = ("immediate", "polls", "delay", "release")
TERMINAL = frozenset({"completed", "failed", "cancelled"})


@dataclasses.dataclass(frozen=True)
class TaskPlan:
    """When commit tasks finish. ``immediate`` is the default: done before commit returns."""

    mode: str = "immediate"
    #: ``polls``: the task completes on this poll of ``GET /api/v1/tasks/{id}`` (1 = first).
    polls: int = 1
    #: ``delay``: the task completes this many seconds (of the store's clock) after the commit.
    delay_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.mode not in COMPLETION_MODES:
            raise ValueError(f"task completion mode must be one of {', '.join(COMPLETION_MODES)}, not {self.mode!r}")
        if self.polls < 1:
            raise ValueError("polls must be at least 1")
        if self.delay_seconds < 0:
            raise ValueError("delay_seconds must not be negative")


@dataclasses.dataclass(frozen=True)
class CommitScript:
    """What the next commit of one session does in phase 2, instead of the default rules."""

    #: Fail the task with this error text (the archive stays unreadable).
    fail: str | None = None
    #: Report these memory counts per category instead of extracting.
    memories: t.Mapping[str, int] | None = None
    #: Report this LLM token usage instead of estimating it.
    llm_usage: t.Mapping[str, int] | None = None


@dataclasses.dataclass(frozen=True)
class CommitReport:
    """What phase 2 of one commit extracted: a completed task's result (the web layer renders it)."""

    session_id: str
    archive_uri: str
    #: Memories extracted by this commit, per category.
    memories: dict[str, int]
    #: The session's LLM usage after this commit, as the real server reports it.
    llm_usage: dict[str, int]
    #: The session's embedding tokens after this commit.
    embedding_tokens: int


@dataclasses.dataclass
class Task:
    """A ``session_commit`` task: the fields of the real server's task records."""

    task_id: str
    owner: Owner
    resource_id: str
    archive_id: str
    created: dt.datetime
    plan: TaskPlan
    script: CommitScript
    task_type: str = "session_commit"
    status: str = "pending"
    updated: dt.datetime | None = None
    stage: str | None = None
    report: CommitReport | None = None
    error: str | None = None
    polls_seen: int = 0
    released: bool = False

    @property
    def terminal(self) -> bool:
        """Whether the task has finished, one way or another."""
        return self.status in TERMINAL

    def due(self, now: dt.datetime) -> bool:
        """Whether the plan says the task should finish by ``now``."""
        mode = self.plan.mode
        if mode == "immediate":
            return True
        if mode == "polls":
            return self.polls_seen >= self.plan.polls
        if mode == "delay":
            return now >= self.created + dt.timedelta(seconds=self.plan.delay_seconds)
        return self.released

    def finish(self, status: str, now: dt.datetime, *, report: CommitReport | None = None,
               error: str | None = None) -> None:
        """Move to a terminal status."""
        self.status = status
        self.stage = status
        self.updated = now
        self.report = report
        self.error = error
