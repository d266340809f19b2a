"""Commits: phase 1 (archive the live messages but the kept tail), automatic and idle commits,
and the transactions that combine a write with the commit it may trigger.

Phase 1 costs O(live messages); phase 2 runs as the commit's task (``taskqueue``). The
idle scan, run when the clock is advanced, costs O(sessions).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

from mockviking.domain.clock import Clock, meta_timestamp, parse_timestamp
from mockviking.domain.context import Context, assemble_context, window_size
from mockviking.domain.messages import MessageDraft
from mockviking.domain.models import Archive, Session
from mockviking.domain.owners import Owner
from mockviking.domain.rules import effective_policy
from mockviking.domain.taskqueue import TaskQueue, find_archive
from mockviking.domain.tasks import CommitScript, Task


@dataclasses.dataclass(frozen=True)
class CommitOutcome:
    """What phase 1 of a commit did: accepted with a task, or skipped for a reason."""

    session_id: str
    #: ``no_messages`` or ``all_within_keep_window`` when nothing was archived.
    skipped: str | None = None
    task_id: str | None = None
    archive_uri: str | None = None
    #: Reported by retention (turn) mode and by a skip for the keep window.
    estimated_active_tokens: int | None = None

    @property
    def accepted(self) -> bool:
        """Whether messages were archived and phase 2 started."""
        return self.skipped is None


@dataclasses.dataclass(slots=True)
class AppendOutcome:
    """The counters an append answers with, read before any commit it triggers (not frozen:
    one is built per append, and a frozen dataclass costs three times as much to build)."""

    session_id: str
    message_count: int
    pending_tokens: int


class CommitEngine(TaskQueue):
    """The store's commits."""

    def open_session(self, owner: Owner, session_id: str, *, auto_create: bool = False) -> Session | None:
        """The session (created empty when ``auto_create``), or ``None``."""
        if auto_create:
            return self.get_or_create_session(owner, session_id)
        return self.get_session(owner, session_id)

    def append(self, owner: Owner, session_id: str, drafts: t.Sequence[MessageDraft]) -> AppendOutcome:
        """Store messages atomically (creating the session), then run the commit they trigger.

        The counters are those after the write and before the automatic commit, as on the
        real server, which schedules that commit in the background.
        """
        with self._lock:
            session = self.add_messages(owner, session_id, drafts)
            outcome = AppendOutcome(session_id, session.message_count, session.pending_tokens)
            self.maybe_auto_commit(owner, session_id)
            return outcome

    def script_next_commit(self, owner: Owner, session_id: str, script: CommitScript) -> None:
        """Make the next commit of a session fail, or extract given counts, in phase 2."""
        with self._lock:
            self.require_session(owner, session_id).script = script

    def commit(
        self,
        owner: Owner,
        session_id: str,
        keep_recent_count: int = 0,
        *,
        retention: t.Mapping[str, t.Any] | None = None,
    ) -> CommitOutcome:
        """Phase 1 of a commit: archive the live messages but the kept tail, start phase 2."""
        with self._lock:
            session = self.require_session(owner, session_id)
            self._settle()
            session.keep_recent_count = keep_recent_count
            mode = (retention or {}).get("retention_mode") or ""
            session.retention_mode = mode
            if mode:
                session.keep_recent_turn_count = _or(retention, "keep_recent_turn_count", 3)
                session.retained_message_token_budget = _or(retention, "retained_message_token_budget", 12000)
                session.min_raw_tail_steps = _or(retention, "min_raw_tail_steps", 1)
            session.pending_tokens = 0
            if not session.messages:
                return CommitOutcome(session_id, skipped="no_messages")
            keep = window_size(session)
            estimated = sum(m.tokens for m in session.messages[len(session.messages) - keep:]) if mode else 0
            if keep >= len(session.messages):
                return CommitOutcome(session_id, skipped="all_within_keep_window", estimated_active_tokens=estimated)

            split = len(session.messages) - keep
            archived, session.messages = session.messages[:split], session.messages[split:]
            index = max(session.commit_count, len(session.archives)) + 1
            archive_id = f"archive_{index:03d}"
            now = self.clock()
            task = Task(
                task_id=self._uuid(),
                owner=owner,
                resource_id=session_id,
                archive_id=archive_id,
                created=now,
                plan=self._state.task_plan,
                script=session.script or CommitScript(),
            )
            session.script = None
            session.archives.append(Archive(archive_id, archived, task.task_id))
            session.commit_count = index
            stamp = meta_timestamp(now)
            session.last_commit_at = stamp
            session.updated_at = stamp
            session.mod_time = now
            self._state.tasks[task.task_id] = task
            self._state.open_tasks.append(task.task_id)
            self._forget_old_tasks()
            self._settle()
            return CommitOutcome(
                session_id,
                task_id=task.task_id,
                archive_uri=session.archive_uri(archive_id),
                estimated_active_tokens=estimated,
            )

    def maybe_auto_commit(self, owner: Owner, session_id: str) -> None:
        """After a write: commit when the session's policy thresholds are crossed."""
        with self._lock:
            session = self.require_session(owner, session_id)
            policy = session.auto_commit_policy
            if policy is None or not session.messages:
                return
            self._settle()
            if session.auto_commit_task is not None:
                task = self._state.tasks.get(session.auto_commit_task)
                if task is not None and not task.terminal:
                    return
            effective = effective_policy(policy)
            interval = effective["min_commit_interval_seconds"]
            now = self.clock()
            last = session.last_auto_commit_at
            if interval and last and (now - parse_timestamp(last)).total_seconds() < interval:
                return
            over_tokens = session.pending_tokens > effective["pending_token_threshold"]
            over_count = session.message_count > effective["message_count_threshold"]
            if not (over_tokens or over_count):
                return
            outcome = self.commit(owner, session_id, effective["keep_recent_count"])
            if outcome.accepted:
                session.last_auto_commit_at = meta_timestamp(now)
                session.auto_commit_task = outcome.task_id

    def run_idle_commits(self) -> list[CommitOutcome]:
        """Commit every session idle longer than its policy's ``idle_timeout_seconds``.

        The real server does this from a background scanner when enabled; mockviking does it
        when its clock is advanced (or when asked), so tests decide when idleness is noticed.
        """
        with self._lock:
            now = self.clock()
            results = []
            for owner, sessions in self._state.sessions.items():
                for session in sessions.values():
                    policy = effective_policy(session.auto_commit_policy)
                    timeout = policy["idle_timeout_seconds"] if policy else 0
                    if not timeout or not session.messages or not session.last_message_at:
                        continue
                    if (now - parse_timestamp(session.last_message_at)).total_seconds() < timeout:
                        continue
                    assert policy is not None
                    outcome = self.commit(owner, session.session_id, policy["keep_recent_count"])
                    if outcome.accepted:
                        session.last_idle_commit_accepted_at = meta_timestamp(now)
                        results.append(outcome)
            return results

    def advance_clock(self, seconds: float) -> dt.datetime:
        """Move the store's clock forward, then commit the sessions that became idle."""
        clock = self.clock
        if not isinstance(clock, Clock):
            raise TypeError("this store was built with a clock that cannot be advanced")
        now = clock.advance(seconds)
        self.run_idle_commits()
        return now

    def get_archive(self, owner: Owner, session_id: str, archive_id: str) -> Archive | None:
        """A completed archive, or ``None`` (unknown, unfinished or failed)."""
        with self._lock:
            session = self.require_session(owner, session_id)
            self._settle()
            archive = find_archive(session, archive_id)
            return archive if archive is not None and archive.status == "completed" else None

    def context(self, owner: Owner, session_id: str, token_budget: int) -> Context:
        """The session context the real server assembles: overview, messages, stats."""
        with self._lock:
            session = self.require_session(owner, session_id)
            self._settle()
            return assemble_context(session, token_budget)


def _or(values: t.Mapping[str, t.Any] | None, name: str, default: int) -> int:
    value = (values or {}).get(name)
    return default if value is None else int(value)
