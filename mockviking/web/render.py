"""The domain's records as the real server's JSON: every wire dictionary is built here.

Field names and their order follow the real server's answers (clients parse JSON, but
people diff it). Each function costs O(what it renders).
"""

from __future__ import annotations

import datetime as dt
import typing as t

from mockviking.domain.commits import CommitOutcome
from mockviking.domain.context import Context
from mockviking.domain.models import MEMORY_CATEGORIES, Archive, Session
from mockviking.domain.rules import effective_policy
from mockviking.domain.tasks import CommitReport, Task
from mockviking.web.auth import Identity


def user(identity: Identity) -> dict[str, str]:
    """The ``user`` object: the caller, with the seed's ``agent_id``."""
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
        "user": user(identity),
        "memory_extraction_config": session.memory_extraction_config,
    }


def session_created(session: Session, identity: Identity) -> dict[str, t.Any]:
    """POST sessions' result."""
    return {"session_id": session.session_id, "uri": session.uri, "user": user(identity), **_config(session)}


def session_config(session: Session) -> dict[str, t.Any]:
    """PATCH config's result."""
    return {"session_id": session.session_id, **_config(session)}


def _config(session: Session) -> dict[str, t.Any]:
    return {
        "auto_commit_policy": effective_policy(session.auto_commit_policy),
        "memory_extraction_config": session.memory_extraction_config,
    }


def session_entry(session: Session) -> dict[str, t.Any]:
    """One entry of GET sessions: the storage layer's directory listing."""
    return {
        "session_id": session.session_id,
        "uri": session.uri,
        "is_dir": True,
        # The storage layer's modification time: UTC, whole seconds.
        "mod_time": session.mod_time.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def commit_result(outcome: CommitOutcome) -> dict[str, t.Any]:
    """POST commit's result, accepted or skipped."""
    body: dict[str, t.Any] = {
        "session_id": outcome.session_id,
        "status": "accepted" if outcome.accepted else "skipped",
        "task_id": outcome.task_id,
        "archive_uri": outcome.archive_uri,
        "archived": outcome.accepted,
        "effective_enable_working_memory": False,
    }
    if outcome.skipped is not None:
        body["reason"] = outcome.skipped
    body["trace_id"] = ""
    if outcome.estimated_active_tokens is not None:
        body["estimated_active_tokens"] = outcome.estimated_active_tokens
        body["budget_exceeded"] = False
    return body


def commit_report(report: CommitReport) -> dict[str, t.Any]:
    """A completed commit task's ``result``: what phase 2 extracted, and the token usage."""
    llm = report.llm_usage
    return {
        "session_id": report.session_id,
        "archive_uri": report.archive_uri,
        "memories_extracted": {**report.memories, "total": sum(report.memories.values())},
        "session_skills_extracted": 0,
        "session_skill_uris": [],
        "usage_events_extracted": 0,
        "active_count_updated": 0,
        "effective_memory_types": list(MEMORY_CATEGORIES),
        "agent_evolution_enabled": False,
        "agent_memory_skip_reason": "",
        "token_usage": {
            "llm": dict(llm),
            "embedding": {"total_tokens": report.embedding_tokens},
            "total": {
                "total_tokens": llm["total_tokens"] + report.embedding_tokens,
                "cached_tokens": llm["cached_tokens"],
                "reasoning_tokens": llm["reasoning_tokens"],
            },
        },
    }


def task_record(task: Task) -> dict[str, t.Any]:
    """The real server's task record."""
    updated = task.updated or task.created
    return {
        "task_id": task.task_id,
        "task_type": task.task_type,
        "status": task.status,
        "created_at": task.created.timestamp(),
        "updated_at": updated.timestamp(),
        "processing_seconds": (updated - task.created).total_seconds() if task.terminal else None,
        "resource_id": task.resource_id,
        "meta": {},
        "stage": task.stage,
        "result": commit_report(task.report) if task.report is not None else None,
        "error": task.error,
        "created_at_iso": task.created.isoformat(),
        "updated_at_iso": updated.isoformat(),
    }


def context(found: Context) -> dict[str, t.Any]:
    """GET context's result."""
    return {
        "latest_archive_overview": found.overview,
        "pre_archive_abstracts": [],
        "messages": [m.to_dict() for m in found.messages],
        "estimatedTokens": found.estimated_tokens,
        "stats": {
            "totalArchives": found.total_archives,
            "includedArchives": 0,
            "droppedArchives": found.dropped_archives,
            "failedArchives": found.failed_archives,
            "activeTokens": found.active_tokens,
            "archiveTokens": found.archive_tokens,
        },
    }


def archive(found: Archive) -> dict[str, t.Any]:
    """GET archive's result."""
    return {
        "archive_id": found.archive_id,
        "abstract": found.abstract,
        "overview": found.overview,
        "messages": [m.to_dict() for m in found.messages],
    }
