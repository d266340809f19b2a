"""Background tasks: look up, list and cancel commit tasks (root sees every account's)."""

from __future__ import annotations

import typing as t

from mockviking.domain.errors import DomainError
from mockviking.domain.owners import Owner
from mockviking.domain.tasks import Task
from mockviking.web import render
from mockviking.web.auth import Identity
from mockviking.web.handlers.registry import Call, operation


def _task_scope(identity: Identity) -> Owner | None:
    """Tasks belong to their owner; the root identity sees them all."""
    return None if identity.role == "root" else identity.owner


def _require_task(call: Call, *, poll: bool = False) -> Task:
    task_id = call.params["task_id"]
    task = call.store.get_task(task_id, _task_scope(call.caller), poll=poll)
    if task is None:
        raise DomainError("NOT_FOUND", "Task not found or expired", {"resource": task_id, "type": "task"})
    return task


@operation
def get_task(call: Call) -> dict[str, t.Any]:
    return render.task_record(_require_task(call, poll=True))


@operation
def list_tasks(call: Call) -> list[dict[str, t.Any]]:
    params = call.params
    tasks = call.store.list_tasks(
        _task_scope(call.caller),
        task_type=params.get("task_type"),
        status=params.get("status"),
        resource_id=params.get("resource_id"),
        limit=params["limit"],
    )
    return [render.task_record(task) for task in tasks]


@operation
def cancel_task(call: Call) -> dict[str, t.Any]:
    if call.caller.role == "root":
        raise DomainError("PERMISSION_DENIED", "ROOT may not cancel tasks")
    task = _require_task(call)
    call.store.cancel_task(task)
    return render.task_record(task)
