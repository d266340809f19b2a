"""Validation failures come out in the real server's (pydantic's) words."""

from __future__ import annotations

import typing as t

import pytest

from mockviking.contract.coercion import coerce_parameter
from mockviking.contract.decoding import MISSING, decode_body, is_json_media_type
from mockviking.contract.refusals import RouteRefusal
from mockviking.contract.spec import Contract, load_contract
from mockviking.contract.translation import RequestInvalid
from mockviking.contract.validation import OperationValidator
from mockviking.web.errors import envelope, status_of

NOT_AN_OBJECT = "Input should be a valid dictionary or object to extract fields from"


@pytest.fixture(scope="module")
def contract() -> Contract:
    return load_contract()


def errors_for(contract: Contract, operation_id: str, body: t.Any, **query: str) -> list[dict[str, t.Any]]:
    validator = OperationValidator(contract, contract.operation(operation_id))
    with pytest.raises(RequestInvalid) as caught:
        validator.validate({"session_id": "s1"}, {k: [v] for k, v in query.items()}, {}, body)
    return t.cast(list[dict[str, t.Any]], caught.value.details["validation_errors"])  # type: ignore[index]


def first(contract: Contract, operation_id: str, body: t.Any, **query: str) -> tuple[str, str, str]:
    error = errors_for(contract, operation_id, body, **query)[0]
    return ".".join(error["loc"]), error["message"], error["type"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, ("body.role", "Field required", "missing")),
        ({"role": "user"}, ("body", "Value error, Either 'content' or 'parts' must be provided", "value_error")),
        ({"role": "user", "content": None, "parts": None},
         ("body", "Value error, Either 'content' or 'parts' must be provided", "value_error")),
        ({"role": 5, "content": "x"}, ("body.role", "Input should be a valid string", "string_type")),
        ({"role": "user", "content": {"a": 1}}, ("body.content", "Input should be a valid string", "string_type")),
        ({"role": "user", "parts": ["hello"]}, ("body.parts.0", "Input should be a valid dictionary", "dict_type")),
        ({"role": "user", "parts": "hello"}, ("body.parts", "Input should be a valid list", "list_type")),
        ({"role": "user", "content": "x", "message_kind": "nope"},
         ("body.message_kind",
          "Input should be 'user_query', 'assistant_step', 'tool_transport' or 'checkpoint'", "literal_error")),
        ({"role": "user", "content": "x", "peer_id": "bad peer!/"},
         ("body.peer_id", "Value error, Invalid peer_id: peer_id must be alpha_numeric string.", "value_error")),
        ({"role": "user", "content": "x", "source_message_ids": "a"},
         ("body.source_message_ids", "Input should be a valid list", "list_type")),
        ({"role": "user", "content": "x", "created_at": 5},
         ("body.created_at", "Input should be a valid string", "string_type")),
        ([], ("body", NOT_AN_OBJECT, "model_attributes_type")),
        ("str", ("body", NOT_AN_OBJECT, "model_attributes_type")),
        (b"raw bytes", ("body", NOT_AN_OBJECT, "model_attributes_type")),
        (MISSING, ("body", "Field required", "missing")),
    ],
)
def test_add_message_errors(contract: Contract, body: t.Any, expected: tuple[str, str, str]) -> None:
    assert first(contract, "add_message", body) == expected


def test_field_errors_come_first_and_hide_model_rules(contract: Contract) -> None:
    errors = errors_for(contract, "add_message", {"content": 5})
    assert [e["loc"] for e in errors] == [["body", "role"], ["body", "content"]]


def test_telemetry_union_reports_each_branch(contract: Contract) -> None:
    errors = errors_for(contract, "add_message", {"role": "user", "content": "x", "telemetry": "x"})
    assert errors == [
        {"loc": ["body", "telemetry", "bool"],
         "message": "Input should be a valid boolean, unable to interpret input", "type": "bool_parsing"},
        {"loc": ["body", "telemetry", "dict[str,bool]"],
         "message": "Input should be a valid dictionary", "type": "dict_type"},
    ]


def test_batch_limits_and_item_locations(contract: Contract) -> None:
    too_many = {"messages": [{"role": "user", "content": "x"}] * 101}
    assert first(contract, "batch_add_messages", too_many) == (
        "body.messages", "List should have at most 100 items after validation, not 101", "too_long",
    )
    bad_item = {"messages": [{"role": "user", "content": "q"}, {"content": "no role"}]}
    assert first(contract, "batch_add_messages", bad_item) == ("body.messages.1.role", "Field required", "missing")


def test_missing_fields_are_listed_once_each(contract: Contract) -> None:
    errors = errors_for(contract, "create_account", {})
    assert [e["loc"] for e in errors] == [["body", "account_id"], ["body", "admin_user_id"]]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ({"bogus": 1}, ("body.auto_commit_policy.bogus", "Extra inputs are not permitted", "extra_forbidden")),
        ({"keep_recent_count": "abc"},
         ("body.auto_commit_policy.keep_recent_count",
          "Input should be a valid integer, unable to parse string as an integer", "int_parsing")),
        ({"keep_recent_count": 2.5},
         ("body.auto_commit_policy.keep_recent_count",
          "Input should be a valid integer, got a number with a fractional part", "int_from_float")),
        ({"pending_token_threshold": None, "keep_recent_count": "abc"},
         ("body.auto_commit_policy",
          "Value error, auto_commit_policy fields must be integers; use auto_commit_policy=null to disable "
          "automatic commits", "value_error")),
        ({"idle_timeout_seconds": 10},
         ("body.auto_commit_policy.idle_timeout_seconds",
          "Value error, auto_commit_policy.idle_timeout_seconds must be 0 or at least 300", "value_error")),
    ],
)
def test_auto_commit_policy_errors(
    contract: Contract, policy: dict[str, t.Any], expected: tuple[str, str, str]
) -> None:
    assert first(contract, "create_session", {"auto_commit_policy": policy}) == expected


def test_lax_integers_are_converted_like_pydantic(contract: Contract) -> None:
    validator = OperationValidator(contract, contract.operation("create_session"))
    body = {"auto_commit_policy": {"keep_recent_count": "7", "message_count_threshold": True,
                                   "pending_token_threshold": 5.0, "idle_timeout_seconds": " 300 "}}
    valid = validator.validate({}, {}, {}, body)
    assert valid.body["auto_commit_policy"] == {
        "keep_recent_count": 7, "message_count_threshold": 1,
        "pending_token_threshold": 5, "idle_timeout_seconds": 300,
    }


def test_query_booleans_follow_pydantic(contract: Contract) -> None:
    validator = OperationValidator(contract, contract.operation("get_session"))
    for raw, expected in [("true", True), ("1", True), ("yes", True), ("ON", True), ("TRUE", True),
                          ("false", False), ("0", False), ("off", False), ("n", False)]:
        assert validator.validate({"session_id": "s"}, {"auto_create": [raw]}, {}).params["auto_create"] is expected
    # Repeated values: the last wins, as with Starlette.
    params = validator.validate({"session_id": "s"}, {"auto_create": ["true", "false"]}, {}).params
    assert params["auto_create"] is False
    assert validator.validate({"session_id": "s"}, {}, {}).params["auto_create"] is False
    for raw in ("maybe", ""):
        assert first(contract, "get_session", None, auto_create=raw) == (
            "query.auto_create", "Input should be a valid boolean, unable to interpret input", "bool_parsing",
        )


def test_coerce_parameter_integers() -> None:
    schema = {"type": "integer"}
    assert coerce_parameter("12", schema, ("query", "n")) == (12, None)
    assert coerce_parameter(" -3 ", schema, ("query", "n")) == (-3, None)
    value, error = coerce_parameter("1.5", schema, ("query", "n"))
    assert value is None
    assert error is not None
    assert error.type == "int_parsing"


def test_decode_body_reports_position_of_json_errors() -> None:
    with pytest.raises(RequestInvalid) as caught:
        decode_body(b'{"role":"user",', "application/json")
    assert caught.value.message == "Invalid request parameters: body.15: JSON decode error"
    assert caught.value.details == {
        "validation_errors": [{"loc": ["body", "15"], "message": "JSON decode error", "type": "json_invalid"}]
    }


@pytest.mark.parametrize("body", [b'{"content":"\xff"}', b"[" * 5000 + b"]" * 5000])
def test_decode_body_unparseable(body: bytes) -> None:
    with pytest.raises(RouteRefusal) as caught:
        decode_body(body, "application/json")
    assert status_of(caught.value) == 400
    assert envelope(caught.value) == {
        "status": "error",
        "error": {"code": "INVALID_ARGUMENT", "message": "There was an error parsing the body"},
    }


def test_decode_body_media_types() -> None:
    assert decode_body(b"", "application/json") is MISSING
    assert decode_body(b'{"a":1}', None) == b'{"a":1}'
    assert decode_body(b'{"a":1}', "text/plain") == b'{"a":1}'
    assert decode_body(b'{"a":1}', "application/json; charset=utf-8") == {"a": 1}
    assert is_json_media_type("application/vnd.api+json")
    assert not is_json_media_type("application/xml")
