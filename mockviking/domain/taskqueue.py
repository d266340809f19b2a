"""Commit tasks: looked up, listed, released and cancelled, and finished when their plan says.

mockviking runs no background threads: an open task advances when anything looks at the
tasks (a poll, a list, a read of the session's context), so a test decides exactly when it
finishes. Settling costs O(open tasks); at most ``TASK_LIMIT`` finished tasks are kept.
"""

from __future__ import annotations

import datetime as dt

from mockviking.domain import phase_two
from mockviking.domain.errors import DomainError, session_not_found
from mockviking.domain.models import Archive, Session
from mockviking.domain.owners import Owner
from mockviking.domain.sessions import SessionBook
from mockviking.domain.tasks import Task, TaskPlan

#: Finished tasks kept for GET /api/v1/tasks; older ones are "not found or expired".
TASK_LIMIT = 10_000


class TaskQueue(SessionBook):
    """The store's commit tasks."""

    def set_task_plan(self, plan: TaskPlan) -> None:
        """Decide how commit tasks created from now on finish."""
        with self._lock:
            self._state.task_plan = plan

    def get_task(self, task_id: str, owner: Owner | None, *, poll: bool = False) -> Task | None:
        """A task visible to ``owner`` (``None``: every task, as root sees them)."""
        with self._lock:
            task = self._state.tasks.get(task_id)
            if task is None or (owner is not None and task.owner != owner):
                return None
            if poll and not task.terminal:
                task.polls_seen += 1
            self._settle()
            return task

    def list_tasks(
        self,
        owner: Owner | None,
        *,
        task_type: str | None = None,
        status: str | None = None,
        resource_id: str | None = None,
        limit: int = 50,
    ) -> list[Task]:
        """Tasks visible to ``owner``, newest first, filtered."""
        with self._lock:
            self._settle()
            found = [
                task for task in reversed(self._state.tasks.values())
                if (owner is None or task.owner == owner)
                and (task_type is None or task.task_type == task_type)
                and (status is None or task.status == status)
                and (resource_id is None or task.resource_id == resource_id)
            ]
            return found[:limit]

    def release_tasks(self, task_id: str | None = None) -> int:
        """Let tasks waiting for release finish (one, or all); returns how many were released."""
        with self._lock:
            released = 0
            for open_id in list(self._state.open_tasks):
                task = self._state.tasks[open_id]
                if task_id in (None, open_id) and task.plan.mode == "release" and not task.released:
                    task.released = True
                    released += 1
            self._settle()
            return released

    def cancel_task(self, task: Task) -> None:
        """Cancel an unfinished task; its archive is then never readable."""
        with self._lock:
            if task.terminal:
                raise DomainError("FAILED_PRECONDITION", f"Task is already {task.status}")
            task.finish("cancelled", self.clock(), error="Task cancelled")
            self._close_task(task, "failed")

    def settle(self) -> None:
        """Finish every task whose plan says it is due (reads do this on their own)."""
        with self._lock:
            self._settle()

    def _settle(self) -> None:
        if not self._state.open_tasks:
            return
        now = self.clock()
        for task_id in list(self._state.open_tasks):
            task = self._state.tasks[task_id]
            if task.terminal:
                self._state.open_tasks.remove(task_id)
            elif task.due(now):
                self._run_phase_two(task, now)
            elif task.status == "pending" and (task.polls_seen or task.plan.mode != "polls"):
                task.status = "running"
                task.updated = now

    def _run_phase_two(self, task: Task, now: dt.datetime) -> None:
        session = self.get_session(task.owner, task.resource_id)
        archive = find_archive(session, task.archive_id) if session else None
        if session is None or archive is None:
            task.finish("failed", now, error=session_not_found(task.resource_id).message)
            self._close_task(task, "failed")
            return
        if task.script.fail is not None:
            task.finish("failed", now, error=task.script.fail)
            self._close_task(task, "failed")
            return
        task.finish("completed", now, report=phase_two.run(session, archive, task.script, now))
        self._close_task(task, "completed")

    def _close_task(self, task: Task, archive_status: str) -> None:
        session = self.get_session(task.owner, task.resource_id)
        archive = find_archive(session, task.archive_id) if session else None
        if archive is not None:
            archive.status = archive_status
        if task.task_id in self._state.open_tasks:
            self._state.open_tasks.remove(task.task_id)

    def _forget_old_tasks(self) -> None:
        tasks = self._state.tasks
        if len(tasks) <= TASK_LIMIT:
            return
        for task_id in [tid for tid, task in tasks.items() if task.terminal][: len(tasks) - TASK_LIMIT]:
            del tasks[task_id]


def find_archive(session: Session | None, archive_id: str) -> Archive | None:
    """The session's archive of that id, or ``None``."""
    if session is None:
        return None
    return next((a for a in session.archives if a.archive_id == archive_id), None)
