"""Answers are encoded as ``json.dumps`` would encode them, errors included."""

from __future__ import annotations

import json
import math
import typing as t

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockviking.web.responses import encode_json

_keys = st.one_of(st.text(), st.integers(), st.floats(allow_nan=False), st.booleans(), st.none())
_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(-(2**80), 2**80), st.floats(), st.text())
_values = st.recursive(
    _scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(_keys, children, max_size=4),
                               st.tuples(children)),
    max_leaves=12,
)


def reference(value: t.Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def outcome(encode: t.Callable[[t.Any], str], value: t.Any) -> tuple[str, str]:
    try:
        return "ok", encode(value)
    except (ValueError, TypeError) as exc:
        return type(exc).__name__, ""


@given(_values)
def test_same_text_and_errors_as_json_dumps(value: t.Any) -> None:
    assert outcome(encode_json, value) == outcome(reference, value)


@pytest.mark.parametrize("value", [math.nan, [math.inf], {"a": -math.inf}, {1, 2}, {(1, 2): 3}, object()])
def test_what_json_dumps_refuses_is_refused(value: t.Any) -> None:
    kind, _ = outcome(reference, value)
    assert kind != "ok"
    assert outcome(encode_json, value) == (kind, "")


def test_non_ascii_and_control_characters() -> None:
    assert encode_json({"é": "日本\n\u2028\x7f\x00"}) == '{"é":"日本\\n\u2028\x7f\\u0000"}'
