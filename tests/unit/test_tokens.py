"""The token estimator reproduces the real server's figures."""

from __future__ import annotations

import pytest

from mockviking.domain.tokens import estimate_parts_tokens, estimate_text_tokens


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("a", 1),
        ("abcd", 1),
        ("abcde", 2),
        ("Hello, world!", 4),
        ("How do I authenticate users?", 7),
        ("你好世界" * 100, 600),  # CJK weighs 1.5
        ("😀😀", 4),  # outside the BMP weighs 2.0
        ("été", 1),  # Latin-1 weighs 0.25
        ("こんにちは", 8),  # kana: 5 x 1.5 = 7.5 -> 8
        ("한국어", 5),  # hangul: 4.5 -> 5
        ("ａ", 2),  # fullwidth form: 1.5 -> 2
        ("a你", 2),  # 0.25 + 1.5 = 1.75 -> 2
    ],
)
def test_estimate_text_tokens(text: str, expected: int) -> None:
    assert estimate_text_tokens(text) == expected


def test_message_estimate_joins_counted_texts_before_rounding() -> None:
    # Two 1-character parts: 0.5 -> 1, not 1 + 1.
    parts = [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]
    assert estimate_parts_tokens(parts) == 1


def test_tool_part_counts_id_name_input_json_and_output() -> None:
    part = {"type": "tool", "tool_id": "call-1", "tool_name": "shell", "tool_output": "x" * 120}
    assert estimate_parts_tokens([part]) == 33  # ceil(131 / 4)
    with_input = dict(part, tool_input={"cmd": "ls"}, tool_output="x")
    # "call-1" + "shell" + '{"cmd": "ls"}' + "x" = 25 characters
    assert estimate_parts_tokens([with_input]) == 7


def test_context_counts_abstract_not_uri_and_images_count_nothing() -> None:
    context = {"type": "context", "uri": "viking://resources/" + "x" * 400, "abstract": "Auth guide"}
    image = {"type": "image_url", "image_url": {"url": "https://example.com/" + "y" * 400}}
    assert estimate_parts_tokens([context]) == 3
    assert estimate_parts_tokens([image]) == 0
