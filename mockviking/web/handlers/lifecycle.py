"""A session's lifecycle: commit, read back its context and archives, change its config."""

from __future__ import annotations

import typing as t

from mockviking.domain.errors import DomainError, RouteError, session_not_found_route
from mockviking.web import render
from mockviking.web.handlers.registry import Call, operation


@operation
def commit_session(call: Call) -> dict[str, t.Any]:
    session_id = call.session_id()
    body = call.dict_body()
    outcome = call.store.commit(
        call.caller.owner,
        session_id,
        int(body.get("keep_recent_count") or 0),
        retention=body if body.get("retention_mode") else None,
    )
    return render.commit_result(outcome)


@operation
def get_session_context(call: Call) -> dict[str, t.Any]:
    # A negative token_budget never gets here: the contract refuses it first, in the real words.
    session_id = call.session_id()
    return render.context(call.store.context(call.caller.owner, session_id, call.params["token_budget"]))


@operation
def get_session_archive(call: Call) -> dict[str, t.Any]:
    session_id, archive_id = call.session_id(), call.params["archive_id"]
    archive = call.store.get_archive(call.caller.owner, session_id, archive_id)
    if archive is None:
        raise RouteError("NOT_FOUND", f"Archive {archive_id} not found")
    return render.archive(archive)


@operation
def update_session_config(call: Call) -> dict[str, t.Any]:
    session_id = call.session_id()
    body = call.dict_body()
    changes: dict[str, t.Any] = {}
    if "auto_commit_policy" in body:
        changes["auto_commit_policy"] = body["auto_commit_policy"]
    if body.get("memory_extraction_config") is not None:
        changes["memory_extraction_config"] = body["memory_extraction_config"]
    try:
        session = call.store.update_config(call.caller.owner, session_id, **changes)
    except DomainError as exc:
        if exc.code != "NOT_FOUND":
            raise
        # The real server's router looks the session up itself, and words a miss its own way.
        raise session_not_found_route(session_id) from exc
    return render.session_config(session)
