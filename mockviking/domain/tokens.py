"""The real server's token estimate: CJK-aware, per message, rounded up once.

Weights per code point: 1.5 for CJK, kana, hangul and fullwidth forms; 2.0 for anything
else outside the Basic Multilingual Plane (emoji); 0.25 for everything else.
"""

from __future__ import annotations

import json
import math
import typing as t

_CJK_RANGES: tuple[tuple[int, int], ...] = (
    (0x1100, 0x11FF),
    (0x3000, 0x303F),
    (0x3040, 0x30FF),
    (0x3130, 0x318F),
    (0x31F0, 0x31FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xAC00, 0xD7AF),
    (0xF900, 0xFAFF),
    (0xFF00, 0xFFEF),
    (0x20000, 0x2EBEF),
)


def _weight(code_point: int) -> float:
    if code_point < 0x1100:
        return 0.25
    for low, high in _CJK_RANGES:
        if low <= code_point <= high:
            return 1.5
    return 2.0 if code_point > 0xFFFF else 0.25


def estimate_text_tokens(text: str) -> int:
    """Estimated tokens of ``text``: ``ceil`` of the summed per-character weights."""
    if text.isascii():
        # Fast path for the common case: every character weighs a quarter.
        return math.ceil(len(text) / 4)
    # Weights are multiples of 0.25, so summing quarters keeps the arithmetic exact.
    quarters = sum(int(_weight(ord(ch)) * 4) for ch in text)
    return -(-quarters // 4)


def part_text(part: t.Mapping[str, t.Any]) -> str:
    """The text of one stored part that counts towards the estimate."""
    kind = part.get("type")
    if kind == "text":
        return str(part.get("text") or "")
    if kind == "context":
        return str(part.get("abstract") or "")
    if kind == "tool":
        text = str(part.get("tool_id") or "") + str(part.get("tool_name") or "")
        tool_input = part.get("tool_input")
        if tool_input:
            text += json.dumps(tool_input, ensure_ascii=False)
        return text + str(part.get("tool_output") or "")
    return ""


def estimate_parts_tokens(parts: t.Iterable[t.Mapping[str, t.Any]]) -> int:
    """Estimated tokens of a message: its counted texts joined, estimated once."""
    return estimate_text_tokens("".join(part_text(p) for p in parts))
