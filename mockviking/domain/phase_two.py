"""Phase 2 of a commit: what the real server's LLM would extract, made by the extractor's rules.

It fills the archive's abstract and overview, adds the extracted memory counts and token
usage into the session, and reports them. Cost grows with the archived messages.
"""

from __future__ import annotations

import datetime as dt
import typing as t

from mockviking.domain import extractor
from mockviking.domain.clock import meta_timestamp
from mockviking.domain.models import LLM_USAGE_KEYS, MEMORY_CATEGORIES, Archive, Session
from mockviking.domain.tasks import CommitReport, CommitScript


def run(session: Session, archive: Archive, script: CommitScript, now: dt.datetime) -> CommitReport:
    """Extract from the archive (or take the script's counts) and add it all to the session."""
    archive.abstract = extractor.abstract_for(archive.archive_id, archive.messages)
    archive.overview = extractor.overview_for(archive.archive_id, archive.messages)
    found = extractor.extract(archive.messages, archive.overview)
    counts = dict(found.counts)
    if script.memories is not None:
        counts = {**dict.fromkeys(MEMORY_CATEGORIES, 0), **script.memories}
    usage = _usage(found.llm_usage, script.llm_usage)
    memories = dict(session.memories_extracted)
    for category, count in counts.items():
        memories[category] = memories.get(category, 0) + count
    memories["total"] = memories.get("total", 0) + sum(counts.values())
    session.memories_extracted = memories
    session.llm_token_usage = {
        key: session.llm_token_usage.get(key, 0) + usage.get(key, 0) for key in LLM_USAGE_KEYS
    }
    session.embedding_tokens += found.embedding_tokens
    stamp = meta_timestamp(now)
    session.last_commit_at = stamp
    session.updated_at = stamp
    return CommitReport(
        session_id=session.session_id,
        archive_uri=session.archive_uri(archive.archive_id),
        memories=counts,
        llm_usage=dict(session.llm_token_usage),
        embedding_tokens=session.embedding_tokens,
    )


def _usage(found: t.Mapping[str, int], scripted: t.Mapping[str, int] | None) -> dict[str, int]:
    if scripted is None:
        return dict(found)
    usage = {**dict.fromkeys(LLM_USAGE_KEYS, 0), **scripted}
    if "total_tokens" not in scripted:
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return usage

