"""The whole state of a store as one JSON document, and back.

Used by the control API's export and import, so a test suite in any language can save a
state and start from it again. The document carries everything: keys, sessions with their
live and archived messages, counters, tasks and the task plan.
A document names its format version; version 1 documents (mockviking before the commit
report was a record of its own) are still read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

from mockviking.domain.errors import DomainError
from mockviking.domain.messages import Message
from mockviking.domain.models import Archive, Session, State
from mockviking.domain.owners import Owner, UserRecord
from mockviking.domain.rules import check_session_id, identifier_problem, unstorable_text
from mockviking.domain.store import SessionStore
from mockviking.domain.tasks import CommitReport, CommitScript, Task, TaskPlan

FORMAT = "mockviking-state"
VERSION = 2
#: Versions this module reads: 1 kept a completed task's answer (``result``), 2 its report.
READABLE_VERSIONS = (1, 2)

_SESSION_FIELDS = (
    "created_at", "updated_at", "total_message_count", "commit_count", "memories_extracted",
    "last_commit_at", "llm_token_usage", "embedding_tokens", "pending_tokens", "keep_recent_count",
    "memory_policy", "auto_commit_policy", "memory_extraction_config", "last_message_at",
    "last_auto_commit_at", "last_idle_commit_accepted_at", "retention_mode", "keep_recent_turn_count",
    "retained_message_token_budget", "min_raw_tail_steps", "auto_commit_task",
)


class SnapshotError(ValueError):
    """A state document that cannot be imported; the message says where."""


def export_state(store: SessionStore) -> dict[str, t.Any]:
    """The store's state as a JSON-compatible document."""
    with store.lock:
        state = store.state
        return {
            "format": FORMAT,
            "version": VERSION,
            "root_key": state.root_key,
            "accounts": [
                {"account_id": account_id, "created_at": created_at,
                 "users": [{"user_id": u.user_id, "role": u.role, "key": u.key}
                           for u in state.users.values() if u.account_id == account_id]}
                for account_id, created_at in state.accounts.items()
            ],
            "sessions": [_session_out(s) for sessions in state.sessions.values() for s in sessions.values()],
            "tasks": [_task_out(task) for task in state.tasks.values()],
            "open_tasks": list(state.open_tasks),
            "task_plan": dataclasses.asdict(state.task_plan),
            "generator": store.generator_state(),
        }


def import_state(store: SessionStore, document: t.Any, *, baseline: bool = False) -> None:
    """Replace the store's state with a document made by :func:`export_state`."""
    try:
        state = _state_in(document)
    except SnapshotError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SnapshotError(f"not a {FORMAT} document: {type(exc).__name__}: {exc}") from exc
    generator = document.get("generator")
    if generator is not None:
        try:
            store.restore_generator(generator)
        except (TypeError, ValueError) as exc:
            raise SnapshotError(f"not a {FORMAT} document: 'generator': {exc}") from exc
    store.replace_state(state, baseline=baseline)


def _session_out(session: Session) -> dict[str, t.Any]:
    data: dict[str, t.Any] = {
        "account_id": session.owner.account_id,
        "user_id": session.owner.user_id,
        "session_id": session.session_id,
        "mod_time": session.mod_time.isoformat(),
        "messages": [_message_out(m) for m in session.messages],
        "archives": [
            {"archive_id": a.archive_id, "task_id": a.task_id, "status": a.status, "abstract": a.abstract,
             "overview": a.overview, "messages": [_message_out(m) for m in a.messages]}
            for a in session.archives
        ],
        "script": dataclasses.asdict(session.script) if session.script else None,
    }
    data.update({name: getattr(session, name) for name in _SESSION_FIELDS})
    return data


def _message_out(message: Message) -> dict[str, t.Any]:
    return dataclasses.asdict(message)


def _task_out(task: Task) -> dict[str, t.Any]:
    return {
        "task_id": task.task_id,
        "account_id": task.owner.account_id,
        "user_id": task.owner.user_id,
        "resource_id": task.resource_id,
        "archive_id": task.archive_id,
        "created": task.created.isoformat(),
        "updated": task.updated.isoformat() if task.updated else None,
        "plan": dataclasses.asdict(task.plan),
        "script": dataclasses.asdict(task.script),
        "task_type": task.task_type,
        "status": task.status,
        "stage": task.stage,
        "report": dataclasses.asdict(task.report) if task.report else None,
        "error": task.error,
        "polls_seen": task.polls_seen,
        "released": task.released,
    }


def _report_in(data: t.Mapping[str, t.Any], version: int) -> CommitReport | None:
    """A task's commit report; version 1 kept the rendered answer, whose fields it repeats."""
    if version >= 2:
        report = data["report"]
        return CommitReport(**report) if report else None
    result = data.get("result")
    if not result:
        return None
    memories = {k: v for k, v in result["memories_extracted"].items() if k != "total"}
    usage = result["token_usage"]
    return CommitReport(result["session_id"], result["archive_uri"], memories, dict(usage["llm"]),
                        usage["embedding"]["total_tokens"])


def _check_ids(account_id: str, user_id: str | None = None, session_id: str | None = None) -> None:
    """Refuse ids the API would refuse: an imported state obeys the same storage rules."""
    for value, field in ((account_id, "account_id"), (user_id, "user_id")):
        problem = identifier_problem(value, field) if value is not None else None
        if problem:
            raise SnapshotError(f"{field} {value!r}: {problem}")
    if session_id is not None:
        try:
            check_session_id(session_id, user_id or "default")
        except DomainError as exc:
            raise SnapshotError(f"session_id {session_id!r}: {exc.message}") from exc


def _state_in(document: t.Any) -> State:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SnapshotError(f"not a {FORMAT} document (its 'format' must be {FORMAT!r})")
    version = document.get("version")
    problem = unstorable_text(document)
    if problem is not None:
        raise SnapshotError(problem)
    if version not in READABLE_VERSIONS:
        raise SnapshotError(f"unsupported {FORMAT} version {version!r}; this reads versions 1 and {VERSION}")
    state = State(root_key=document.get("root_key"))
    state.accounts = {}
    for account in document["accounts"]:
        _check_ids(account["account_id"])
        state.accounts[account["account_id"]] = account["created_at"]
        for user in account["users"]:
            _check_ids(account["account_id"], user["user_id"])
            record = UserRecord(account["account_id"], user["user_id"], user["role"], user["key"])
            state.users[(record.account_id, record.user_id)] = record
            state.keys[record.key] = record
    for data in document["sessions"]:
        _check_ids(data["account_id"], data["user_id"], data["session_id"])
        owner = Owner(data["account_id"], data["user_id"])
        session = Session(data["session_id"], owner, data["created_at"], data["updated_at"],
                          dt.datetime.fromisoformat(data["mod_time"]))
        for name in _SESSION_FIELDS:
            setattr(session, name, data[name])
        session.messages = [Message(**m) for m in data["messages"]]
        session.archives = [
            Archive(a["archive_id"], [Message(**m) for m in a["messages"]], a["task_id"], a["status"],
                    a["abstract"], a["overview"])
            for a in data["archives"]
        ]
        session.script = CommitScript(**data["script"]) if data.get("script") else None
        state.sessions.setdefault(owner, {})[session.session_id] = session
        stored = len(session.messages) + sum(len(a.messages) for a in session.archives)
        state.message_totals[owner] = state.message_totals.get(owner, 0) + stored
    for data in document["tasks"]:
        task = Task(
            task_id=data["task_id"], owner=Owner(data["account_id"], data["user_id"]),
            resource_id=data["resource_id"], archive_id=data["archive_id"],
            created=dt.datetime.fromisoformat(data["created"]), plan=TaskPlan(**data["plan"]),
            script=CommitScript(**data["script"]), task_type=data["task_type"], status=data["status"],
            updated=dt.datetime.fromisoformat(data["updated"]) if data["updated"] else None,
            stage=data["stage"], report=_report_in(data, version), error=data["error"],
            polls_seen=data["polls_seen"], released=data["released"],
        )
        state.tasks[task.task_id] = task
    state.open_tasks = [task_id for task_id in document["open_tasks"] if task_id in state.tasks]
    state.task_plan = TaskPlan(**document["task_plan"])
    return state
