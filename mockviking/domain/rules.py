"""The storage rules every way into the state obeys: ids, identifiers and session policies.

The API, the fixtures, the control API and a state import all store through the
:class:`~mockviking.domain.store.SessionStore`, which applies these, so none of them can
keep something the real server would refuse.
"""

from __future__ import annotations

import re
import typing as t

from mockviking.domain.errors import DomainError, unsafe_segment

_IDENTIFIER = re.compile(r"^[a-zA-Z0-9_.@-]+$")
_DRIVE_PREFIX = re.compile(r"^[A-Za-z]:")

#: The real server's auto-commit defaults (fields a policy leaves out).
AUTO_COMMIT_DEFAULTS: dict[str, int] = {
    "pending_token_threshold": 150000,
    "message_count_threshold": 100,
    "idle_timeout_seconds": 86400,
    "keep_recent_count": 0,
    "min_commit_interval_seconds": 0,
}

#: The largest value the real server keeps for each auto-commit field (larger ones are clamped).
AUTO_COMMIT_LIMITS: dict[str, int] = {
    "pending_token_threshold": 1_000_000,
    "message_count_threshold": 1000,
    "idle_timeout_seconds": 604800,
    "keep_recent_count": 1000,
    "min_commit_interval_seconds": 604800,
}


# -- ids ------------------------------------------------------------------------------------


def check_session_id(session_id: str, user_id: str, max_length: int | None = None) -> None:
    """Refuse ids the real storage layer refuses as unsafe path segments, in its words."""
    if max_length is not None and len(session_id) > max_length:
        raise DomainError(
            "INVALID_ARGUMENT",
            f"session_id is {len(session_id)} characters long; mockviking accepts at most {max_length}",
            {"field": "session_id", "max_length": max_length},
        )
    uri = f"viking://user/{user_id}/sessions/{session_id}"
    for segment in session_id.split("/"):
        if segment in (".", ".."):
            raise unsafe_segment(f"Unsafe URI traversal segment '{segment}' in {uri}", uri)
        if "\\" in segment:
            raise unsafe_segment(
                f"Unsafe URI path separator {chr(92)!r} in component '{segment}' of {uri}", uri
            )
        if _DRIVE_PREFIX.match(segment):
            raise unsafe_segment(f"Unsafe URI drive-prefixed component '{segment}' in {uri}", uri)


def identifier_problem(value: str, field: str) -> str | None:
    """Why ``value`` is not a valid account or user id (the real server's words), or ``None``."""
    if field == "account_id" and value.startswith("_"):
        return "account_id cannot start with underscore _."
    if not _IDENTIFIER.match(value) or value in (".", "..") or value.count("@") > 1:
        return f"{field} must be alpha_numeric string."
    return None


def check_identifier(value: str, field: str) -> None:
    """Refuse an account or user id the real server would refuse (INVALID_ARGUMENT)."""
    reason = identifier_problem(value, field)
    if reason is not None:
        raise DomainError("INVALID_ARGUMENT", reason)


# -- text ------------------------------------------------------------------------------------


def unstorable_text(value: t.Any) -> str | None:
    """Why ``value`` cannot be stored as UTF-8 (a lone surrogate), in the real server's words.

    JSON's ``"\\ud800"`` decodes to a string no UTF-8 writer accepts: the real server refuses
    it when it stores the value, and a stored one would make every later answer holding it
    fail. The first such string, depth first, is named with the position of the character in
    it. Cost: O(size of the value); only called for bodies that may hold one.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError as exc:
                    return str(exc)
        elif isinstance(item, dict):
            for key, child in reversed(list(item.items())):
                stack.extend((child, key))
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
    return None


def escape_unstorable(value: t.Any) -> t.Any:
    """``value`` with each lone surrogate written as ``\\udXXX``: for reports and the journal,
    which show what a client sent even when it could not be stored."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {escape_unstorable(k): escape_unstorable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [escape_unstorable(v) for v in value]
    return value


def check_storable(value: t.Any) -> None:
    """Refuse a value holding a lone surrogate with the real server's INVALID_ARGUMENT."""
    problem = unstorable_text(value)
    if problem is not None:
        raise DomainError("INVALID_ARGUMENT", problem, {})


# -- session policies --------------------------------------------------------------------------


@t.overload
def effective_policy(policy: t.Mapping[str, int]) -> dict[str, int]: ...
@t.overload
def effective_policy(policy: None) -> None: ...
def effective_policy(policy: t.Mapping[str, int] | None) -> dict[str, int] | None:
    """A stored auto-commit policy with the real defaults filled in, or ``None``."""
    if policy is None:
        return None
    return {**AUTO_COMMIT_DEFAULTS, **policy}


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


def extraction_config(raw: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """A memory extraction config as the real server stores it (only normalised event tags)."""
    tags = (raw.get("events") or {}).get("tags") or []
    return {"events": {"tags": normalize_tags(tags)}}


def memory_policy(raw: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
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
