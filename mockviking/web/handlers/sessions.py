"""Session operations: create, list, read, delete, and append messages (one or a batch)."""

from __future__ import annotations

import typing as t

from mockviking.domain.errors import session_not_found_route
from mockviking.domain.messages import MessageDraft, drafts_from_request
from mockviking.web import render
from mockviking.web.handlers.registry import Call, operation


@operation
def create_session(call: Call) -> dict[str, t.Any]:
    body = call.dict_body()
    session = call.store.create_session(
        call.caller.owner,
        body.get("session_id") or None,
        memory_policy=body.get("memory_policy"),
        auto_commit_policy=body.get("auto_commit_policy"),
        memory_extraction_config=body.get("memory_extraction_config"),
    )
    return render.session_created(session, call.caller)


@operation
def list_sessions(call: Call) -> list[dict[str, t.Any]]:
    return [render.session_entry(s) for s in call.store.list_sessions(call.caller.owner)]


@operation
def get_session(call: Call) -> dict[str, t.Any]:
    session_id = call.session_id()
    store = call.store
    with store.lock:
        session = store.open_session(call.caller.owner, session_id, auto_create=bool(call.params.get("auto_create")))
        if session is None:
            raise session_not_found_route(session_id)
        return render.session_detail(session, call.caller)


@operation
def delete_session(call: Call) -> dict[str, t.Any]:
    session_id = call.session_id()
    call.store.delete_session(call.caller.owner, session_id)
    return {"session_id": session_id}


def _append(call: Call, drafts: list[MessageDraft], **extra: int) -> dict[str, t.Any]:
    outcome = call.store.append(call.caller.owner, call.session_id(), drafts)
    return {
        "session_id": outcome.session_id,
        "message_count": outcome.message_count,
        **extra,
        "pending_tokens": outcome.pending_tokens,
    }


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
