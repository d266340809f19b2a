"""What stays live after a commit, and the context the real server assembles for a session.

A session keeps its newest messages out of commits and pending tokens (its keep window);
the context answer is the newest finished archive's overview plus the messages not yet
summarised, within a token budget. Cost grows with the live and unfinished messages.
"""

from __future__ import annotations

import dataclasses
import typing as t

from mockviking.domain.messages import Message
from mockviking.domain.models import Session
from mockviking.domain.tokens import estimate_text_tokens


@dataclasses.dataclass(frozen=True)
class Context:
    """A session's context within a token budget (the web layer renders it)."""

    overview: str
    messages: list[Message]
    estimated_tokens: int
    total_archives: int
    dropped_archives: int
    failed_archives: int
    active_tokens: int
    archive_tokens: int


def turn_starts(messages: t.Sequence[Message]) -> list[int]:
    """Indexes where a logical turn starts: each user message (and the very first message)."""
    return [i for i, m in enumerate(messages) if i == 0 or m.role == "user"]


def window_size(session: Session) -> int:
    """How many of the newest live messages the session keeps out of commits and pending tokens.

    Plain mode keeps ``keep_recent_count`` messages. Turn mode keeps the last
    ``keep_recent_turn_count`` turns (a turn starts at a user message) while they fit in
    ``retained_message_token_budget``, and at least ``min_raw_tail_steps`` messages.
    """
    messages = session.messages
    if not session.retention_mode:
        return min(session.keep_recent_count, len(messages))
    starts = turn_starts(messages)
    turns = session.keep_recent_turn_count
    if turns <= 0 or not starts:
        kept = 0
    else:
        first = starts[-turns] if turns <= len(starts) else 0
        kept = len(messages) - first
        while kept > 0 and sum(m.tokens for m in messages[len(messages) - kept:]) > (
            session.retained_message_token_budget
        ):
            later = [s for s in starts if s > len(messages) - kept]
            kept = len(messages) - later[0] if later else 0
    return min(len(messages), max(kept, session.min_raw_tail_steps))


def turn_mode_pending(session: Session) -> int:
    keep = window_size(session)
    return sum(m.tokens for m in session.messages[: len(session.messages) - keep])


def assemble_context(session: Session, token_budget: int) -> Context:
    """Overview of the newest finished archive, then unfinished archives' and live messages.

    Messages come oldest first; when they do not fit the budget the oldest are dropped.
    The overview comes only from a completed archive, and only if it fits what remains.
    """
    terminal = [a for a in session.archives if a.status != "pending"]
    newest_terminal = terminal[-1] if terminal else None
    after = session.archives.index(newest_terminal) + 1 if newest_terminal else 0
    pending = [m for a in session.archives[after:] for m in a.messages]
    candidates = pending + session.messages
    chosen: list[Message] = []
    used = 0
    for message in reversed(candidates):
        if used + message.tokens > token_budget:
            break
        chosen.append(message)
        used += message.tokens
    chosen.reverse()
    overview = ""
    archive_tokens = 0
    if newest_terminal is not None and newest_terminal.status == "completed":
        overview_tokens = estimate_text_tokens(newest_terminal.overview)
        if used + overview_tokens <= token_budget:
            overview, archive_tokens = newest_terminal.overview, overview_tokens
    failed = 1 if newest_terminal is not None and newest_terminal.status == "failed" else 0
    return Context(
        overview=overview,
        messages=chosen,
        estimated_tokens=used + archive_tokens,
        total_archives=len(session.archives),
        dropped_archives=len(session.archives) - failed,
        failed_archives=failed,
        active_tokens=used,
        archive_tokens=archive_tokens,
    )
