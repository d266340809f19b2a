"""The deterministic stand-in for the real server's LLM memory extraction.

The real server asks an LLM to extract long-term memories from an archived batch of
messages; offline, and in tests, that phase cannot run. mockviking replaces it with simple,
documented rules, so the same messages always give the same memories, token usage, abstract
and overview. The rules (one memory per match, per message part of text):

- ``profile``: a user sentence that says who the user is ("I am", "I'm", "my name is",
  "I work").
- ``preferences``: a user sentence with "I like", "I love", "I prefer", "I hate",
  "I don't like" or "I want".
- ``entities``: each distinct ``viking://`` URI of a context part.
- ``events``: a sentence with an ISO date (``2026-03-23``) or "yesterday", "today",
  "tomorrow", "meeting", "deadline".
- ``cases``: each user question (text ending in ``?``) answered by the next assistant message.
- ``patterns``: a user sentence with "always", "usually", "every time" or "whenever".
- ``tools``: each distinct tool name of a tool part; ``skills``: each distinct ``skill_uri``.

Token usage: ``prompt_tokens`` is the archived messages' estimate plus 100 per call of
overhead; ``completion_tokens`` is 20 per memory plus the overview's estimate; ``total`` is
their sum; ``cached`` and ``reasoning`` stay 0. Embedding tokens are the memories' estimate.
"""

from __future__ import annotations

import dataclasses
import re
import typing as t

from mockviking.domain.messages import Message
from mockviking.domain.models import MEMORY_CATEGORIES
from mockviking.domain.tokens import estimate_text_tokens

PROMPT_OVERHEAD = 100
TOKENS_PER_MEMORY = 20

_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")
_RULES: dict[str, re.Pattern[str]] = {
    "profile": re.compile(r"\b(i am|i'm|my name is|i work)\b", re.IGNORECASE),
    "preferences": re.compile(r"\b(i like|i love|i prefer|i hate|i don't like|i want)\b", re.IGNORECASE),
    "events": re.compile(r"\b(\d{4}-\d{2}-\d{2}|yesterday|today|tomorrow|meeting|deadline)\b", re.IGNORECASE),
    "patterns": re.compile(r"\b(always|usually|every time|whenever)\b", re.IGNORECASE),
}
_USER_ONLY = frozenset({"profile", "preferences", "patterns"})


@dataclasses.dataclass(frozen=True)
class Memory:
    """One extracted memory."""

    category: str
    abstract: str


@dataclasses.dataclass(frozen=True)
class Extraction:
    """What one commit's extraction produced."""

    memories: tuple[Memory, ...]
    counts: dict[str, int]
    llm_usage: dict[str, int]
    embedding_tokens: int


def message_text(message: Message) -> str:
    """The plain text of a message: its text parts, joined."""
    return " ".join(str(p.get("text", "")) for p in message.parts if p.get("type") == "text").strip()


def extract(messages: t.Sequence[Message], overview: str) -> Extraction:
    """Memories, counts and token usage for an archived batch of messages."""
    memories: list[Memory] = []
    seen: set[tuple[str, str]] = set()

    def remember(category: str, abstract: str) -> None:
        key = (category, abstract)
        if key not in seen:
            seen.add(key)
            memories.append(Memory(category, abstract))

    for index, message in enumerate(messages):
        text = message_text(message)
        for sentence in (s.strip() for s in _SENTENCE.findall(text)):
            for category, rule in _RULES.items():
                if sentence and rule.search(sentence) and (message.role == "user" or category not in _USER_ONLY):
                    remember(category, sentence)
        if message.role == "user" and text.endswith("?"):
            following = messages[index + 1] if index + 1 < len(messages) else None
            if following is not None and following.role == "assistant":
                remember("cases", f"{text} -> {message_text(following)}".strip())
        for part in message.parts:
            if part.get("type") == "context" and part.get("uri"):
                remember("entities", str(part["uri"]))
            if part.get("type") == "tool":
                if part.get("tool_name"):
                    remember("tools", str(part["tool_name"]))
                if part.get("skill_uri"):
                    remember("skills", str(part["skill_uri"]))

    counts = dict.fromkeys(MEMORY_CATEGORIES, 0)
    for memory in memories:
        counts[memory.category] += 1
    return Extraction(
        memories=tuple(memories),
        counts=counts,
        llm_usage=usage_for(messages, len(memories), overview),
        embedding_tokens=sum(estimate_text_tokens(m.abstract) for m in memories),
    )


def usage_for(messages: t.Sequence[Message], memory_count: int, overview: str) -> dict[str, int]:
    """LLM token usage of one extraction, from the archived text's estimate."""
    prompt = PROMPT_OVERHEAD + sum(m.tokens for m in messages)
    completion = TOKENS_PER_MEMORY * memory_count + estimate_text_tokens(overview)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "cached_tokens": 0,
        "reasoning_tokens": 0,
    }


def abstract_for(archive_id: str, messages: t.Sequence[Message]) -> str:
    """A one-line summary of an archive: its size and the first user request."""
    first = next((message_text(m) for m in messages if m.role == "user" and message_text(m)), "")
    topic = f": {_clip(first, 80)}" if first else ""
    return f"{archive_id}: {len(messages)} message{'s' if len(messages) != 1 else ''}{topic}"


def overview_for(archive_id: str, messages: t.Sequence[Message]) -> str:
    """A Markdown overview of an archive: one line per message."""
    lines = [f"# {archive_id}", ""]
    for message in messages:
        text = message_text(message) or _describe_parts(message)
        lines.append(f"- {message.role}: {_clip(text, 120)}")
    return "\n".join(lines)


def _describe_parts(message: Message) -> str:
    kinds = [str(p.get("type")) for p in message.parts]
    return f"({', '.join(kinds)})" if kinds else "(empty)"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
