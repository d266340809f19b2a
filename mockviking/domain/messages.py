"""Turn a validated add-message request into stored messages, as the real server does.

The real server is lenient with parts (an unknown type becomes a text part, a text part
without text is empty) but strict with URIs; keeping those rules in one place lets the
HTTP routes and the fixture loader store exactly the same thing.
"""

from __future__ import annotations

import dataclasses
import typing as t

from mockviking.domain.errors import DomainError, RouteError
from mockviking.domain.tokens import estimate_parts_tokens, estimate_text_tokens

#: Every ``viking://`` scope the real server knows...
VIKING_SCOPES = ("agent", "queue", "resources", "session", "system", "temp", "upload", "user")
#: ...and the ones a message's URIs may point into.
REQUEST_SCOPES = ("agent", "resources", "session", "system", "user")
#: Tool outputs of one request are budgeted together; the real server reports the budget.
TOOL_OUTPUT_GROUP_BUDGET = 100000

_TOOL_STRING_FIELDS = ("tool_id", "tool_name", "tool_uri", "skill_uri")
_TOOL_OPTIONAL_FIELDS = (
    "tool_input",
    "tool_output",
    "duration_ms",
    "prompt_tokens",
    "completion_tokens",
    "tool_output_ref",
    "tool_output_truncated",
    "tool_output_original_chars",
    "tool_output_preview_chars",
    "tool_output_sha256",
    "tool_output_storage_uri",
    "tool_output_source_ref",
    "tool_output_source_offset",
    "tool_output_source_limit",
    "tool_output_externalization_error",
    "tool_output_group_id",
    "tool_output_externalized_reason",
    "tool_output_group_original_chars",
    "tool_output_group_budget_chars",
)
_OPTIONAL_MESSAGE_FIELDS = ("peer_id", "turn_id", "message_kind", "source_message_ids")


@dataclasses.dataclass(slots=True)
class Message:
    """A stored message; ``tokens`` is its estimate, kept so counters never re-scan."""

    id: str
    role: str
    parts: list[dict[str, t.Any]]
    created_at: str
    peer_id: str | None = None
    turn_id: str | None = None
    message_kind: str | None = None
    source_message_ids: list[str] | None = None
    tokens: int = 0

    def to_dict(self) -> dict[str, t.Any]:
        """The JSON form: the optional fields appear only when set."""
        data: dict[str, t.Any] = {
            "id": self.id,
            "role": self.role,
            "parts": self.parts,
            "created_at": self.created_at,
        }
        for name in _OPTIONAL_MESSAGE_FIELDS:
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        return data


@dataclasses.dataclass(slots=True)
class MessageDraft:
    """A message before it gets an id and a timestamp from the store (not frozen: that
    would make each draft cost twice as much to build, on every append)."""

    role: str
    parts: list[dict[str, t.Any]]
    created_at: str | None
    peer_id: str | None
    turn_id: str | None
    message_kind: str | None
    source_message_ids: list[str] | None
    tokens: int
    #: Which request body of a batch the draft came from (tool outputs are grouped per body).
    group: int = 0
    #: Whether a part is a grouped tool output, whose group id the store fills in.
    grouped: bool = False


def drafts_from_request(body: t.Mapping[str, t.Any], group: int = 0) -> list[MessageDraft]:
    """The messages one add-message body stores (a user's all-tool message splits in one per part)."""
    role = body["role"]
    peer_id = body.get("peer_id")
    if isinstance(peer_id, str):
        peer_id = peer_id.strip() or None
    created_at, turn_id, source_ids = body.get("created_at"), body.get("turn_id"), body.get("source_message_ids")
    kind = body.get("message_kind")
    if body.get("parts") is None:
        # The common case, plain content: one text part, no tool outputs to group.
        text = body.get("content") or ""
        return [MessageDraft(role, [{"type": "text", "text": text}], created_at, peer_id, turn_id, kind,
                             source_ids, estimate_text_tokens(text), group)]
    parts = [normalize_part(p) for p in body["parts"]]
    grouped = _group_tool_outputs(parts)
    if role == "user" and len(parts) > 1 and all(p["type"] == "tool" for p in parts):
        return [
            MessageDraft(role, [p], created_at, peer_id, turn_id, kind or "tool_transport", source_ids,
                         estimate_parts_tokens([p]), group, grouped)
            for p in parts
        ]
    return [MessageDraft(role, parts, created_at, peer_id, turn_id, kind, source_ids,
                         estimate_parts_tokens(parts), group, grouped)]


def _group_tool_outputs(parts: list[dict[str, t.Any]]) -> bool:
    """Mark the tool outputs of one request as one group (the store fills in the group id);
    whether there were any."""
    with_output = [p for p in parts if p["type"] == "tool" and p.get("tool_output")]
    total = sum(len(str(p["tool_output"])) for p in with_output)
    for part in with_output:
        part["tool_output_group_id"] = None
        part["tool_output_group_original_chars"] = total
        part["tool_output_group_budget_chars"] = TOOL_OUTPUT_GROUP_BUDGET
    return bool(with_output)


def fill_group_ids(stored: t.Sequence[tuple[MessageDraft, Message]]) -> None:
    """Point every grouped tool output at the first message its request body stored."""
    first_ids: dict[int, str] = {}
    for draft, message in stored:
        first_id = first_ids.setdefault(draft.group, message.id)
        for part in message.parts:
            if part.get("type") == "tool" and part.get("tool_output_group_id", "") is None:
                part["tool_output_group_id"] = first_id


def normalize_part(raw: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """One request part in its stored form."""
    kind = raw.get("type", "text")
    if not isinstance(kind, str):
        kind = "not a known type"  # the real server makes such a part a text part
    if kind == "text":
        return {"type": "text", "text": raw.get("text") or ""}
    if kind == "context":
        uri = raw.get("uri") or ""
        check_viking_uri(uri)
        if uri.endswith("/") and len(uri) > len("viking://"):
            uri = uri.rstrip("/")
        return {
            "type": "context",
            "uri": uri,
            "context_type": raw.get("context_type") or "memory",
            "abstract": raw.get("abstract") or "",
        }
    if kind == "tool":
        return _tool_part(raw)
    if kind == "image_url":
        return _image_part(raw)
    # Unknown types are kept as text, as the real server keeps them.
    text = raw["text"] if "text" in raw else str(dict(raw))
    return {"type": "text", "text": text}


def _tool_part(raw: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    part: dict[str, t.Any] = {"type": "tool"}
    for name in _TOOL_STRING_FIELDS:
        part[name] = raw.get(name) or ""
    for name in ("tool_uri", "skill_uri", "tool_output_storage_uri"):
        if raw.get(name):
            check_viking_uri(str(raw[name]))
    part["tool_status"] = raw.get("tool_status") or "pending"
    for name in _TOOL_OPTIONAL_FIELDS:
        value = raw.get(name)
        if value:
            part[name] = value
    mime = raw.get("tool_output_mime_type")
    if mime and mime != "text/plain":
        part["tool_output_mime_type"] = mime
    return part


def _image_part(raw: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    image = raw.get("image_url")
    url: t.Any = ""
    detail: t.Any = None
    if isinstance(image, str):
        url = image
    elif isinstance(image, dict):
        url, detail = image.get("url"), image.get("detail")
    if not url or not isinstance(url, str):
        raise RouteError("INVALID_ARGUMENT", "image_url part requires a non-empty URL")
    if url.startswith("viking://"):
        check_viking_uri(url)
    image_url: dict[str, t.Any] = {"url": url}
    if detail is not None:
        image_url["detail"] = detail
    return {"type": "image_url", "image_url": image_url}


def check_viking_uri(uri: str) -> None:
    """Refuse a non-empty URI that is not ``viking://<scope>/...`` for a scope messages may use.

    Like the real server, an unknown scope is named against every scope, a known one that
    messages may not use against the scopes they may.
    """
    if not uri:
        return
    if not uri.startswith("viking://"):
        raise invalid_uri(uri, "URI must start with 'viking://'")
    scope = uri[len("viking://"):].split("/", 1)[0]
    if scope == "~":
        return
    for allowed in (VIKING_SCOPES, REQUEST_SCOPES):
        if scope not in allowed:
            raise invalid_uri(uri, f"Invalid scope '{scope}'. Must be one of: {', '.join(allowed)}")


def invalid_uri(uri: str, reason: str) -> DomainError:
    """INVALID_URI from the service layer, with the URI and the reason in details."""
    return DomainError("INVALID_URI", f"Invalid URI: {uri} ({reason})", {"uri": uri, "reason": reason})
