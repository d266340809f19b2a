"""One function per contract operation: validated input in, result (or error) out.

Functions are registered by ``operationId``; ``app.py`` checks at start-up that every
operation of the contract has one (or answers 501), so code and contract cannot drift.
They never see Flask: input arrives as a :class:`Call`, output is the ``result`` payload.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import typing as t

from mockviking.web.auth import Identity
from mockviking.domain.errors import ApiError, Shape, session_not_found_route, unsafe_segment
from mockviking.harness.harness import Harness
from mockviking.domain.messages import MessageDraft, drafts_from_request
from mockviking.domain.store import Owner, Session, SessionStore, effective_policy
from mockviking.domain.tasks import Task

#: The version of the real server whose behaviour mockviking reproduces.
EMULATED_VERSION = "0.5.2"

AUTO_COMMIT_LIMITS: dict[str, int] = {
    "pending_token_threshold": 1_000_000,
    "message_count_threshold": 1000,
    "idle_timeout_seconds": 604800,
    "keep_recent_count": 1000,
    "min_commit_interval_seconds": 604800,
}

_DRIVE_PREFIX = re.compile(r"^[A-Za-z]:")


@dataclasses.dataclass(slots=True)
class Call:
    """Everything an operation may use about one request (not frozen: one is built per request,
    and a frozen dataclass costs three times as much to build)."""

    harness: Harness
    identity: Identity | None
    params: t.Mapping[str, t.Any]
    body: t.Any

    @property
    def store(self) -> SessionStore:
        """The OpenViking state."""
        return self.harness.store

    @property
    def caller(self) -> Identity:
        """The authenticated caller (tenant and admin routes always have one)."""
        assert self.identity is not None, "tenant and admin routes always resolve an identity"
        return self.identity


@dataclasses.dataclass(frozen=True)
class Raw:
    """A body answered as is, without the envelope (``/health`` has none)."""

    body: t.Any
    status: int = 200


Handler = t.Callable[[Call], t.Any]
HANDLERS: dict[str, Handler] = {}


def registry(handlers: dict[str, Handler]) -> t.Callable[[Handler], Handler]:
    """A decorator that registers a function for the contract operation of the same name."""

    def register(func: Handler) -> Handler:
        handlers[func.__name__] = func
        return func

    return register


operation = registry(HANDLERS)


def check_session_id(session_id: str, identity: Identity, max_length: int | None = None) -> None:
    """Refuse ids the real storage layer refuses as unsafe path segments, in its words."""
    if max_length is not None and len(session_id) > max_length:
        raise ApiError(
            "INVALID_ARGUMENT",
            f"session_id is {len(session_id)} characters long; mockviking accepts at most {max_length}",
            {"field": "session_id", "max_length": max_length},
        )
    uri = f"viking://user/{identity.user_id}/sessions/{session_id}"
    for segment in session_id.split("/"):
        if segment in (".", ".."):
            raise unsafe_segment(f"Unsafe URI traversal segment '{segment}' in {uri}", uri)
        if "\\" in segment:
            raise unsafe_segment(
                f"Unsafe URI path separator {chr(92)!r} in component '{segment}' of {uri}", uri
            )
        if _DRIVE_PREFIX.match(segment):
            raise unsafe_segment(f"Unsafe URI drive-prefixed component '{segment}' in {uri}", uri)


def _session_id(call: Call) -> str:
    """The path's session id, once checked like the real server checks it."""
    session_id: str = call.params["session_id"]
    check_session_id(session_id, call.caller, call.harness.config.max_id_length)
    return session_id


# -- system and admin ---------------------------------------------------------------------


@operation
def health(call: Call) -> Raw:
    body: dict[str, t.Any] = {
        "status": "ok",
        "healthy": True,
        "version": EMULATED_VERSION,
        "auth_mode": call.store.auth_mode,
    }
    if call.identity is not None:
        body.update(
            account_id=call.identity.account_id,
            user_id=call.identity.user_id,
            role=call.identity.role,
        )
    return Raw(body)


@operation
def create_account(call: Call) -> dict[str, t.Any]:
    # The contract has already refused ids the real server refuses, in its words.
    account_id, admin_user_id = call.body["account_id"], call.body["admin_user_id"]
    record = call.store.create_account(account_id, admin_user_id)
    return {"account_id": account_id, "admin_user_id": admin_user_id, "user_key": record.key}


@operation
def list_accounts(call: Call) -> list[dict[str, t.Any]]:
    store = call.store
    with store.lock:
        return [
            {
                "account_id": account_id,
                "created_at": created_at,
                "user_count": len(store.users(account_id)),
                "status": "active",
            }
            for account_id, created_at in store.accounts().items()
        ]


def _check_account_scope(caller: Identity, account_id: str) -> None:
    if caller.role == "admin" and caller.account_id != account_id:
        raise ApiError("PERMISSION_DENIED", f"ADMIN can only manage account: {caller.account_id}")


def _require_account(store: SessionStore, account_id: str) -> None:
    if not store.account_exists(account_id):
        raise ApiError(
            "NOT_FOUND",
            f"Account not found: {account_id}",
            {"type": "account", "resource": account_id},
        )


@operation
def list_users(call: Call) -> list[dict[str, t.Any]]:
    account_id = call.params["account_id"]
    _check_account_scope(call.caller, account_id)
    _require_account(call.store, account_id)
    return [
        {"user_id": u.user_id, "role": u.role, "api_key": u.key}
        for u in call.store.users(account_id)
    ]


@operation
def create_user(call: Call) -> dict[str, t.Any]:
    account_id = call.params["account_id"]
    _check_account_scope(call.caller, account_id)
    # The contract has already refused a bad user id or role, in the real server's words.
    user_id = call.body["user_id"]
    role = call.body.get("role", "user")
    _require_account(call.store, account_id)
    record = call.store.create_user(account_id, user_id, role)
    return {"account_id": account_id, "user_id": user_id, "user_key": record.key}


# -- sessions ------------------------------------------------------------------------------


def _user(identity: Identity) -> dict[str, str]:
    return {
        "account_id": identity.account_id,
        "user_id": identity.user_id,
        "agent_id": identity.agent_id,
    }


def session_detail(session: Session, identity: Identity) -> dict[str, t.Any]:
    """GET session's result: the real server's fields in its order, plus the seed's."""
    return {
        "session_id": session.session_id,
        "created_at": session.created_at,
        "updated_at": session.updated_at,
        "created_by_account_id": session.owner.account_id,
        "created_by_user_id": session.owner.user_id,
        "message_count": session.message_count,
        "commit_count": session.commit_count,
        "memories_extracted": dict(session.memories_extracted),
        "last_commit_at": session.last_commit_at,
        "llm_token_usage": dict(session.llm_token_usage),
        "embedding_token_usage": {"total_tokens": session.embedding_tokens},
        "pending_tokens": session.pending_tokens,
        "keep_recent_count": session.keep_recent_count,
        "retention_mode": session.retention_mode,
        "keep_recent_turn_count": session.keep_recent_turn_count,
        "retained_message_token_budget": session.retained_message_token_budget,
        "min_raw_tail_steps": session.min_raw_tail_steps,
        "memory_policy": session.memory_policy,
        "auto_commit_policy": effective_policy(session.auto_commit_policy),
        "last_message_at": session.last_message_at,
        "last_auto_commit_at": session.last_auto_commit_at,
        "last_idle_commit_accepted_at": session.last_idle_commit_accepted_at,
        "total_message_count": session.total_message_count,
        "uri": session.uri,
        "user": _user(identity),
        "memory_extraction_config": session.memory_extraction_config,
    }


def clamp_policy(raw: t.Mapping[str, int]) -> dict[str, int]:
    """Clamp each auto-commit field into the real server's range."""
    return {name: max(0, min(int(value), AUTO_COMMIT_LIMITS[name])) for name, value in raw.items()}


def normalize_tags(tags: t.Iterable[str]) -> list[str]:
    """Event tags as the real server keeps them: trimmed, lower-case, ``key=value``, last wins."""
    by_key: dict[str, str] = {}
    for tag in tags:
        text = tag.strip().lower()
        if text.count("=") != 1:
            continue
        key, value = (piece.strip() for piece in text.split("="))
        if key and value:
            by_key[key] = value
    return [f"{key}={value}" for key, value in by_key.items()]


def _extraction_config(raw: t.Mapping[str, t.Any] | None) -> dict[str, t.Any] | None:
    if raw is None:
        return None
    tags = (raw.get("events") or {}).get("tags") or []
    return {"events": {"tags": normalize_tags(tags)}}


def _memory_policy(raw: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """A memory policy with the real defaults: self and peer memory on, working memory off."""
    policy: dict[str, t.Any] = {
        "self": {"enabled": True},
        "peer": {"enabled": True},
        "working_memory": {"enabled": False},
    }
    for name in ("self", "peer", "working_memory"):
        if isinstance(raw.get(name), dict) and "enabled" in raw[name]:
            policy[name] = {"enabled": _loose_flag(raw[name]["enabled"])}
    if raw.get("memory_types") is not None:
        policy["memory_types"] = list(raw["memory_types"])
    return policy


def _loose_flag(value: t.Any) -> bool:
    """How the real server reads ``enabled``: yes/no words, else Python truthiness."""
    if isinstance(value, str):
        word = value.strip().lower()
        return word not in ("", "0", "false", "no", "off")
    return bool(value)


@operation
def create_session(call: Call) -> dict[str, t.Any]:
    body = call.body if isinstance(call.body, dict) else {}
    session_id = body.get("session_id") or None
    if session_id is not None:
        check_session_id(session_id, call.caller, call.harness.config.max_id_length)
    policy = body.get("auto_commit_policy")
    memory_policy = body.get("memory_policy")
    session = call.store.create_session(
        call.caller.owner,
        session_id,
        memory_policy=_memory_policy(memory_policy) if memory_policy is not None else None,
        auto_commit_policy=clamp_policy(policy) if policy is not None else None,
        memory_extraction_config=_extraction_config(body.get("memory_extraction_config")),
    )
    return {
        "session_id": session.session_id,
        "uri": session.uri,
        "user": _user(call.caller),
        "auto_commit_policy": effective_policy(session.auto_commit_policy),
        "memory_extraction_config": session.memory_extraction_config,
    }


@operation
def list_sessions(call: Call) -> list[dict[str, t.Any]]:
    return [
        {
            "session_id": s.session_id,
            "uri": s.uri,
            "is_dir": True,
            "mod_time": _mod_time(s),
        }
        for s in call.store.list_sessions(call.caller.owner)
    ]


def _mod_time(session: Session) -> str:
    """The storage layer's modification time: UTC, whole seconds."""
    return session.mod_time.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@operation
def get_session(call: Call) -> dict[str, t.Any]:
    session_id = _session_id(call)
    store, owner = call.store, call.caller.owner
    with store.lock:
        if call.params.get("auto_create"):
            session = store.get_or_create_session(owner, session_id)
        else:
            found = store.get_session(owner, session_id)
            if found is None:
                raise session_not_found_route(session_id)
            session = found
        return session_detail(session, call.caller)


@operation
def delete_session(call: Call) -> dict[str, t.Any]:
    session_id = _session_id(call)
    call.store.delete_session(call.caller.owner, session_id)
    return {"session_id": session_id}


def _append(call: Call, drafts: list[MessageDraft], **extra: int) -> dict[str, t.Any]:
    """Store drafts atomically and answer with the counters after the write.

    An automatic commit the write triggers runs after the answer is computed, as on the real
    server, where it is scheduled in the background.
    """
    session_id = _session_id(call)
    store, owner = call.store, call.caller.owner
    with store.lock:
        session = store.add_messages(owner, session_id, drafts)
        result = {
            "session_id": session_id,
            "message_count": session.message_count,
            **extra,
            "pending_tokens": session.pending_tokens,
        }
        store.maybe_auto_commit(owner, session_id)
        return result


@operation
def add_message(call: Call) -> dict[str, t.Any]:
    return _append(call, drafts_from_request(call.body))


@operation
def batch_add_messages(call: Call) -> dict[str, t.Any]:
    # Every message is converted (and so checked) before anything is stored: all or none.
    drafts = [
        draft
        for index, message in enumerate(call.body["messages"])
        for draft in drafts_from_request(message, group=index)
    ]
    return _append(call, drafts, added=len(drafts))


# -- lifecycle: commit, context, archives, config ------------------------------------------


@operation
def commit_session(call: Call) -> dict[str, t.Any]:
    session_id = _session_id(call)
    body = call.body if isinstance(call.body, dict) else {}
    return call.store.commit(
        call.caller.owner,
        session_id,
        int(body.get("keep_recent_count") or 0),
        retention=body if body.get("retention_mode") else None,
    )


@operation
def get_session_context(call: Call) -> dict[str, t.Any]:
    # A negative token_budget never gets here: the contract refuses it first, in the real words.
    session_id = _session_id(call)
    return call.store.context(call.caller.owner, session_id, call.params["token_budget"])


@operation
def get_session_archive(call: Call) -> dict[str, t.Any]:
    session_id, archive_id = _session_id(call), call.params["archive_id"]
    archive = call.store.get_archive(call.caller.owner, session_id, archive_id)
    if archive is None:
        raise ApiError("NOT_FOUND", f"Archive {archive_id} not found", shape=Shape.ROUTE)
    return {
        "archive_id": archive.archive_id,
        "abstract": archive.abstract,
        "overview": archive.overview,
        "messages": [m.to_dict() for m in archive.messages],
    }


@operation
def update_session_config(call: Call) -> dict[str, t.Any]:
    session_id = _session_id(call)
    body = call.body if isinstance(call.body, dict) else {}
    changes: dict[str, t.Any] = {}
    if "auto_commit_policy" in body:
        policy = body["auto_commit_policy"]
        changes["auto_commit_policy"] = clamp_policy(policy) if policy is not None else None
    if body.get("memory_extraction_config") is not None:
        changes["memory_extraction_config"] = _extraction_config(body["memory_extraction_config"])
    session = call.store.update_config(call.caller.owner, session_id, **changes)
    return {
        "session_id": session_id,
        "auto_commit_policy": effective_policy(session.auto_commit_policy),
        "memory_extraction_config": session.memory_extraction_config,
    }


# -- tasks ---------------------------------------------------------------------------------


def _task_scope(identity: Identity) -> Owner | None:
    """Tasks belong to their owner; the root identity sees them all."""
    return None if identity.role == "root" else identity.owner


def _require_task(call: Call, *, poll: bool = False) -> Task:
    task_id = call.params["task_id"]
    task = call.store.get_task(task_id, _task_scope(call.caller), poll=poll)
    if task is None:
        raise ApiError("NOT_FOUND", "Task not found or expired", {"resource": task_id, "type": "task"})
    return task


@operation
def get_task(call: Call) -> dict[str, t.Any]:
    return _require_task(call, poll=True).to_dict()


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
    return [task.to_dict() for task in tasks]


@operation
def cancel_task(call: Call) -> dict[str, t.Any]:
    if call.caller.role == "root":
        raise ApiError("PERMISSION_DENIED", "ROOT may not cancel tasks")
    task = _require_task(call)
    call.store.cancel_task(task)
    return task.to_dict()
