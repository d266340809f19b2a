"""The compiled precheck answers as jsonschema does, so the fast path never lets a bad request in.

``compile_precheck`` promises that ``True`` means jsonschema finds no error. These tests hold
it to that on the contract's own schemas (with instances aimed near the valid ones, then
broken) and on the corners where Python and JSON Schema disagree about values.
"""

from __future__ import annotations

import functools
import math
import typing as t

import jsonschema
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from mockviking.contract.precheck import compile_precheck
from mockviking.contract.spec import Contract, load_contract
from mockviking.contract.validation import OperationValidator

Schema = dict[str, t.Any]
Strategy = st.SearchStrategy[t.Any]

CONTRACT = load_contract()
BODY_POINTERS = {op.operation_id: op.body_pointer for op in CONTRACT.operations if op.body_pointer}
#: Parameters checked by schema (a plain string one is taken as it comes), by pointer.
PARAM_POINTERS = {
    f"{op.operation_id}.{param.name}": param.pointer
    for op in CONTRACT.operations
    for param, validator, _ in OperationValidator(CONTRACT, op)._params
    if validator is not None
}


@pytest.fixture(scope="module")
def contract() -> Contract:
    return CONTRACT


# -- instances near a schema ---------------------------------------------------------------


def property_names(schema: t.Any) -> set[str]:
    """Every property name a schema mentions anywhere, so random objects hit real keys."""
    names: set[str] = set()
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key in ("properties", "patternProperties") and isinstance(value, dict):
                names.update(value)
            if key == "required" and isinstance(value, list):
                names.update(n for n in value if isinstance(n, str))
            names |= property_names(value)
    elif isinstance(schema, list):
        for item in schema:
            names |= property_names(item)
    return names


def json_values(names: t.Collection[str] = ()) -> Strategy:
    """Any JSON value (no NaN: JSON has none, and NaN equals nothing, itself included)."""
    keys = st.one_of(st.sampled_from(sorted(names)), st.text(max_size=6)) if names else st.text(max_size=6)
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.text(max_size=10),
        st.sampled_from([0, 1, 1.0, 0.0, -0.0, True, False, "", "0", "1", "true", " 7 ", 300, 10000, 10001]),
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=3), st.dictionaries(keys, children, max_size=3)
        ),
        max_leaves=8,
    )


def _types(value: t.Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _fold(base: Schema, extra: t.Any, deferred: list[Schema]) -> Schema:
    """``base`` with the constraints of ``extra`` (an ``allOf`` branch) folded in.

    Only as far as generation needs: a keyword both sides set, that cannot be combined
    here, is deferred (and dropped unless it is a combinator expanded later).
    """
    if not isinstance(extra, dict):
        return base
    out = dict(base)
    for key, value in extra.items():
        if key == "allOf":
            out["allOf"] = [*out.get("allOf", []), *value]
        elif key not in out:
            out[key] = value
        elif key == "type":
            mine, theirs = _types(out[key]), _types(value)
            both = [k for k in mine if k in theirs or (k == "integer" and "number" in theirs)]
            both += [k for k in theirs if k == "integer" and "number" in mine and k not in both]
            out[key] = both or theirs
        elif key == "properties":
            merged = dict(out[key])
            for name, sub in value.items():
                merged[name] = {"allOf": [merged[name], sub]} if name in merged else sub
            out[key] = merged
        elif key == "required":
            out[key] = sorted({*out[key], *value})
        elif key == "pattern":
            out["_patterns"] = [*out.get("_patterns", []), value]
        else:
            deferred.append({key: value})
    return out


def near(schema: t.Any, names: t.Collection[str]) -> Strategy:
    """Values aimed at ``schema``: mostly valid, sometimes not (the tests compare both ways)."""
    if not isinstance(schema, dict):
        return json_values(names)
    flat: Schema = dict(schema)
    deferred: list[Schema] = []
    while "allOf" in flat:
        branches = flat.pop("allOf")
        for branch in branches:
            flat = _fold(flat, branch, deferred)
    for combinator in ("anyOf", "oneOf"):
        if combinator in flat:
            rest = {k: v for k, v in flat.items() if k != combinator}
            return st.one_of([near({**rest, "allOf": [*deferred, b]}, names) for b in flat[combinator]])
    if "if" in flat:
        rest = {k: v for k, v in flat.items() if k not in ("if", "then", "else")}
        return st.one_of(
            near({**rest, "allOf": [*deferred, flat["if"], flat.get("then", True)]}, names),
            near({**rest, "allOf": [*deferred, flat.get("else", True)]}, names),
        )
    if "const" in flat:
        return st.just(flat["const"])
    if "enum" in flat:
        return st.sampled_from(flat["enum"]) if flat["enum"] else json_values(names)
    kinds = _types(flat["type"]) if "type" in flat else _implied_types(flat)
    if not kinds:
        return json_values(names)
    return st.one_of([_of_type(kind, flat, names) for kind in kinds])


def _implied_types(schema: Schema) -> list[str]:
    if {"properties", "required", "additionalProperties", "propertyNames"} & set(schema):
        return ["object"]
    if {"items", "minItems", "maxItems"} & set(schema):
        return ["array"]
    if {"pattern", "minLength", "maxLength"} & set(schema):
        return ["string"]
    if {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"} & set(schema):
        return ["number"]
    return []


def _of_type(kind: str, schema: Schema, names: t.Collection[str]) -> Strategy:
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        whole = st.integers(
            min_value=None if low is None else math.ceil(low),
            max_value=None if high is None else math.floor(high),
        )
        if kind == "integer":
            return whole
        return st.one_of(whole, st.floats(min_value=low, max_value=high, allow_nan=False))
    if kind == "string":
        patterns = [p for p in [schema.get("pattern"), *schema.get("_patterns", [])] if p is not None]
        if patterns:
            return st.one_of([st.from_regex(p) for p in patterns])
        low = schema.get("minLength", 0)
        return st.text(min_size=low, max_size=max(low, schema.get("maxLength", low + 8)))
    if kind == "array":
        items = near(schema.get("items", True), names)
        low = schema.get("minItems", 0)
        short = st.lists(items, min_size=low, max_size=min(schema.get("maxItems", 3), low + 3))
        if "maxItems" not in schema:
            return short
        # At the bound and just past it, made cheaply of one item repeated.
        bound = schema["maxItems"]
        return st.one_of(short, st.builds(lambda item, n: [item] * n, items, st.sampled_from([bound, bound + 1])))
    return _object(schema, names)


def _object(schema: Schema, names: t.Collection[str]) -> Strategy:
    props: Schema = schema.get("properties", {})
    required = set(schema.get("required", []))
    fixed = st.fixed_dictionaries(
        {name: near(props.get(name, True), names) for name in sorted(required)},
        optional={name: near(sub, names) for name, sub in props.items() if name not in required},
    )
    extra_schema = schema.get("additionalProperties", True)
    if extra_schema is False:
        return fixed
    allowed = schema.get("propertyNames", {})
    if isinstance(allowed, dict) and ("const" in allowed or "enum" in allowed):
        keys: Strategy = st.sampled_from(allowed["enum"] if "enum" in allowed else [allowed["const"]])
    else:
        keys = st.one_of(st.sampled_from(sorted(names)), st.text(max_size=6)) if names else st.text(max_size=6)
    extras = st.dictionaries(keys, near(extra_schema, names), max_size=2)
    return st.builds(lambda more, known: {**more, **known}, extras, fixed)


# -- breaking them -------------------------------------------------------------------------


def _paths(value: t.Any, prefix: tuple[t.Any, ...] = ()) -> list[tuple[t.Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _replace(value: t.Any, path: tuple[t.Any, ...], new: t.Any) -> t.Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replace(value[path[0]], path[1:], new)
    return copy


def _twin(node: t.Any) -> t.Any:
    """A value Python finds equal (or nearly) that JSON Schema may not: 1 and True, 1 and 1.0..."""
    if node is True or node is False:
        return int(node)
    if isinstance(node, int):
        return {0: False, 1: True}.get(node, float(node) if abs(node) < 2**53 else str(node))
    if isinstance(node, float):
        return int(node) if node.is_integer() else str(node)
    if isinstance(node, str):
        stripped = node.strip()
        return int(stripped) if stripped.lstrip("+-").isdigit() and stripped.isascii() else node + "\n"
    return node


@st.composite
def mutated(draw: st.DrawFn, value: t.Any, names: t.Collection[str]) -> t.Any:
    """``value`` with one to three nodes changed in ways that tend to cross the schema's line."""
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(value)))
        node: t.Any = value
        for step in path:
            node = node[step]
        how = draw(st.sampled_from(["retype", "twin", "drop", "add", "null", "wrap", "empty", "nudge"]))
        if how == "retype":
            new = draw(json_values(names))
        elif how == "twin":
            new = _twin(node)
        elif how == "drop" and isinstance(node, dict) and node:
            gone = draw(st.sampled_from(sorted(node)))
            new = {k: v for k, v in node.items() if k != gone}
        elif how == "drop" and isinstance(node, list) and node:
            new = node[:-1]
        elif how == "add" and isinstance(node, dict):
            key = draw(st.one_of(st.sampled_from(sorted(names) or [""]), st.text(max_size=4)))
            new = {**node, key: draw(json_values(names))}
        elif how == "add" and isinstance(node, list):
            new = [*node, draw(json_values(names))]
        elif how == "wrap":
            new = [node]
        elif how == "empty":
            new = draw(st.sampled_from(["", {}, [], 0]))
        elif how == "nudge" and isinstance(node, (int, float)) and not isinstance(node, bool):
            new = node + draw(st.sampled_from([-1, 1, 0.5]))
        elif how == "nudge" and isinstance(node, str):
            new = draw(st.sampled_from([" ", "_", "@", "=", ".", "\n"])) + node
        else:
            new = None
        value = _replace(value, path, new)
    return value


@functools.cache
def instances(pointer: str) -> Strategy:
    """Near-valid values, broken ones, and arbitrary JSON, for the schema at ``pointer``."""
    schema = CONTRACT.validator(pointer).schema
    names = property_names(schema)
    aimed = near(schema, names)
    return st.one_of(aimed, aimed.flatmap(lambda v: mutated(v, names)), json_values(names))


def assert_agrees(schema: t.Any, instance: t.Any) -> None:
    precheck = compile_precheck(schema)
    assert precheck is not None
    valid = jsonschema.Draft202012Validator(schema).is_valid(instance)
    fast = precheck(instance)
    assert not (fast and not valid), f"precheck accepts what jsonschema refuses: {instance!r}"
    assert fast == valid, f"precheck refuses what jsonschema accepts: {instance!r}"


# -- the contract's schemas ----------------------------------------------------------------


@pytest.mark.parametrize("operation_id", sorted(BODY_POINTERS))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_body_precheck_agrees_with_jsonschema(operation_id: str, data: st.DataObject) -> None:
    pointer = BODY_POINTERS[operation_id]
    assert_agrees(CONTRACT.validator(pointer).schema, data.draw(instances(pointer), label="body"))


@pytest.mark.parametrize("parameter", sorted(PARAM_POINTERS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_parameter_precheck_agrees_with_jsonschema(parameter: str, data: st.DataObject) -> None:
    # Parameters arrive coerced (an int, a bool); the precheck sees that value.
    pointer = PARAM_POINTERS[parameter]
    assert_agrees(CONTRACT.validator(pointer).schema, data.draw(instances(pointer), label="value"))


@pytest.mark.parametrize("operation_id", sorted(BODY_POINTERS))
def test_body_instances_reach_both_sides(operation_id: str) -> None:
    """The generator must reach valid bodies too, or agreement is only ever False == False."""
    pointer = BODY_POINTERS[operation_id]
    validator = CONTRACT.validator(pointer)
    quick = settings(max_examples=500, phases=[Phase.generate], database=None,
                     suppress_health_check=list(HealthCheck))
    find(instances(pointer), validator.is_valid, settings=quick)
    find(instances(pointer), lambda v: not validator.is_valid(v), settings=quick)


def test_every_body_and_checked_parameter_compiles(contract: Contract) -> None:
    """A contract change that leaves a schema uncompiled would quietly slow every request."""
    uncompiled = []
    for op in contract.operations:
        validator = OperationValidator(contract, op)
        if op.body_pointer and validator._body_precheck is None:
            uncompiled.append(f"{op.operation_id}: body")
        uncompiled += [
            f"{op.operation_id}: {param.location} {param.name}"
            for param, schema_check, precheck in validator._params
            if schema_check is not None and precheck is None
        ]
    assert uncompiled == []
    # Not vacuous: the contract has bodies and parameters that need a schema check.
    assert len(BODY_POINTERS) >= 5
    assert PARAM_POINTERS


# -- keyword semantics ---------------------------------------------------------------------

BIG = 10**30
IF_THEN_ELSE = {
    "if": {"properties": {"kind": {"const": "a"}}, "required": ["kind"]},
    "then": {"required": ["x"]},
    "else": {"required": ["y"]},
}


@pytest.mark.parametrize(
    ("schema", "instance", "valid"),
    [
        # const and enum compare as JSON does: true is not 1, 1 is 1.0.
        ({"const": 1}, True, False),
        ({"const": 0}, False, False),
        ({"const": True}, 1, False),
        ({"const": False}, 0, False),
        ({"const": 1}, 1.0, True),
        ({"const": 1.0}, 1, True),
        ({"const": "1"}, 1, False),
        ({"const": None}, 0, False),
        ({"const": None}, None, True),
        ({"enum": [0, 1]}, False, False),
        ({"enum": [0, 1]}, True, False),
        ({"enum": [0, 1]}, 1.0, True),
        ({"enum": [True]}, 1, False),
        ({"enum": ["turn_budget", None]}, None, True),
        ({"enum": ["turn_budget", None]}, "", False),
        ({"enum": []}, None, False),
        # integer is a mathematical integer: 1.0 is one, true is not.
        ({"type": "integer"}, 1.0, True),
        ({"type": "integer"}, -0.0, True),
        ({"type": "integer"}, 1e300, True),
        ({"type": "integer"}, BIG, True),
        ({"type": "integer"}, 1.5, False),
        ({"type": "integer"}, True, False),
        ({"type": "integer"}, math.inf, False),
        ({"type": "number"}, True, False),
        ({"type": "number"}, False, False),
        ({"type": "number"}, 0, True),
        ({"type": "number"}, math.inf, True),
        ({"type": "boolean"}, 1, False),
        ({"type": "boolean"}, 0, False),
        ({"type": "null"}, 0, False),
        ({"type": "null"}, False, False),
        ({"type": "object"}, [], False),
        ({"type": "array"}, {}, False),
        ({"type": ["string", "null"]}, None, True),
        ({"type": ["string", "null"]}, 0, False),
        # Bounds apply to numbers only, and a boolean is not one.
        ({"minimum": 5}, False, True),
        ({"maximum": 0}, True, True),
        ({"minimum": 0}, -1e-300, False),
        ({"minimum": 300}, 299.5, False),
        ({"maximum": 10000}, 10000.0, True),
        ({"maximum": 10**20}, BIG, False),
        ({"exclusiveMinimum": 0}, 0, False),
        ({"exclusiveMinimum": 0}, -0.0, False),
        ({"exclusiveMinimum": 0}, 5e-324, True),
        ({"exclusiveMaximum": 1}, 1.0, False),
        ({"exclusiveMaximum": 1}, 0.5, True),
        ({"minimum": 0}, 0, True),
        ({"maximum": 0}, 0.0, True),
        ({"minimum": 1}, "0", True),
        # Lengths count code points, and apply to their own type only.
        ({"minLength": 2}, "\U0001f600\U0001f600", True),
        ({"maxLength": 1}, "\U0001f600", True),
        ({"minLength": 1}, "", False),
        ({"minLength": 1}, [], True),
        ({"maxItems": 1}, [1, 2], False),
        ({"maxItems": 1}, [1], True),
        ({"minItems": 2}, [1, 2], True),
        ({"minItems": 2}, [1], False),
        ({"maxLength": 2}, "ab", True),
        ({"maxLength": 2}, "abc", False),
        ({"minLength": 2}, "a", False),
        ({"minProperties": 1}, {"a": 1}, True),
        ({"maxProperties": 1}, {"a": 1}, True),
        ({"maxProperties": 1}, {"a": 1, "b": 2}, False),
        ({"maxItems": 1}, "ab", True),
        ({"minProperties": 1}, {}, False),
        ({"maxProperties": 0}, [1], True),
        # required constrains objects only.
        ({"required": ["a"]}, [], True),
        ({"required": ["a"]}, "a", True),
        ({"required": ["a"]}, None, True),
        ({"required": ["a"]}, {}, False),
        ({"required": ["a"]}, {"a": None}, True),
        ({"type": "object", "required": ["a"]}, [], False),
        # pattern searches (it is not anchored) and ignores non-strings.
        ({"pattern": "b"}, "abc", True),
        ({"pattern": "^b"}, "abc", False),
        ({"pattern": "c$"}, "abc", True),
        ({"pattern": "^x$"}, 5, True),
        ({"pattern": "^x$"}, ["y"], True),
        # jsonschema uses Python's re, where $ also matches before a final newline.
        ({"pattern": "^a$"}, "a\n", True),
        ({"pattern": "\\S"}, " \t", False),
        # properties and additionalProperties.
        ({"properties": {"a": {"type": "integer"}}}, {"a": "x"}, False),
        ({"properties": {"a": {"type": "integer"}}}, {"b": "x"}, True),
        ({"properties": {"a": False}}, {"a": None}, False),
        ({"properties": {"a": False}}, {}, True),
        ({"properties": {"a": {}}, "additionalProperties": False}, {"a": 1}, True),
        ({"properties": {"a": {}}, "additionalProperties": False}, {"a": 1, "b": 2}, False),
        ({"properties": {"a": {}}, "additionalProperties": False}, {"b": 2}, False),
        ({"properties": {"a": {}}, "additionalProperties": False}, ["b"], True),
        ({"additionalProperties": False}, {}, True),
        ({"properties": {"a": {}}, "additionalProperties": {"type": "integer"}}, {"a": "x", "b": 1}, True),
        ({"properties": {"a": {}}, "additionalProperties": {"type": "integer"}}, {"b": "x"}, False),
        ({"propertyNames": {"const": "summary"}}, {"summary": 1}, True),
        ({"propertyNames": {"const": "summary"}}, {"other": 1}, False),
        ({"propertyNames": {"pattern": "^a"}}, "b", True),
        ({"items": {"type": "string"}}, ["a", 1], False),
        ({"items": {"type": "string"}}, {"a": 1}, True),
        ({"items": False}, [], True),
        ({"items": False}, [None], False),
        # if/then/else: the branch taken depends on whether the instance passes if.
        (IF_THEN_ELSE, {"kind": "a", "x": 1}, True),
        (IF_THEN_ELSE, {"kind": "a", "y": 1}, False),
        (IF_THEN_ELSE, {"kind": "b", "y": 1}, True),
        (IF_THEN_ELSE, {"kind": "b", "x": 1}, False),
        (IF_THEN_ELSE, {"y": 1}, True),
        (IF_THEN_ELSE, {"x": 1}, False),
        (IF_THEN_ELSE, "not an object", True),
        ({"if": {"type": "string"}, "then": {"minLength": 2}}, "a", False),
        ({"if": {"type": "string"}, "then": {"minLength": 2}}, 1, True),
        ({"if": {"type": "string"}, "else": {"type": "null"}}, 1, False),
        # then and else mean nothing without if.
        ({"then": False}, 1, True),
        ({"else": False}, 1, True),
        ({"if": False}, 1, True),
        # oneOf: exactly one branch, not at least one.
        ({"oneOf": [{"type": "integer"}, {"minimum": 0}]}, 5, False),
        ({"oneOf": [{"type": "integer"}, {"minimum": 0}]}, -1, True),
        ({"oneOf": [{"type": "integer"}, {"minimum": 0}]}, 0.5, True),
        ({"oneOf": [{"type": "integer"}, {"minimum": 0}]}, "x", True),
        ({"oneOf": [{"type": "integer"}, {"minimum": 0}]}, -0.5, False),
        ({"oneOf": [{}, {}]}, 1, False),
        ({"oneOf": []}, 1, False),
        ({"anyOf": [{"type": "integer"}, {"minimum": 0}]}, 5, True),
        ({"anyOf": [{"type": "string"}, {}]}, 5, True),
        ({"anyOf": []}, 1, False),
        ({"allOf": [{"type": "integer"}, {"minimum": 0}]}, -1, False),
        ({"allOf": []}, 1, True),
        ({"not": {"type": "string"}}, "a", False),
        ({"not": {"type": "string"}}, 1, True),
        ({"not": {}}, 1, False),
        # Boolean schemas and annotations.
        (True, {"anything": [1]}, True),
        (False, None, False),
        ({}, None, True),
        ({"format": "email", "description": "not checked", "x-coerce": "integer"}, "not an email", True),
        ({"type": "string", "default": 5, "examples": [5], "deprecated": True}, 5, False),
    ],
)
def test_keyword_semantics(schema: t.Any, instance: t.Any, valid: bool) -> None:
    precheck = compile_precheck(schema)
    assert precheck is not None
    assert jsonschema.Draft202012Validator(schema).is_valid(instance) is valid  # the case itself is right
    assert precheck(instance) is valid


@pytest.mark.parametrize(
    "schema",
    [
        {"uniqueItems": True},
        {"$ref": "#/$defs/x", "$defs": {"x": {}}},
        {"properties": {"a": {"items": {"$ref": "#"}}}},  # however deep
        {"anyOf": [{"type": "string"}, {"dependentRequired": {"a": ["b"]}}]},
        {"patternProperties": {"^a": {}}, "additionalProperties": False},
        {"prefixItems": [{}], "items": False},
        {"const": [1]},  # container equality is not compiled
        {"enum": [{"a": 1}]},
        {"type": "float"},
        {"type": []},
        {"minimum": True},
        {"nullable": True},  # OpenAPI 3.0, which jsonschema would ignore
        {"unevaluatedProperties": False},
        "not a schema",
    ],
)
def test_unsupported_schema_gets_no_precheck(schema: t.Any) -> None:
    # None sends every request to jsonschema, which is always safe.
    assert compile_precheck(schema) is None


# -- random schemas ------------------------------------------------------------------------

FUZZ_NAMES = ["a", "b"]
_numbers = st.one_of(st.integers(-3, 3), st.sampled_from([0.5, -0.5, 1.0, 0.0, 2**53, 1e300]))
_scalars = st.one_of(st.none(), st.booleans(), _numbers, st.sampled_from(["", "a", "1"]))
_leaves = st.one_of(
    st.booleans(),
    st.fixed_dictionaries({"type": st.one_of(
        st.sampled_from(["string", "object", "array", "boolean", "null", "integer", "number"]),
        st.lists(st.sampled_from(["string", "null", "integer", "number", "boolean"]), min_size=1, max_size=3),
    )}),
    st.fixed_dictionaries({"const": _scalars}),
    st.fixed_dictionaries({"enum": st.lists(_scalars, max_size=3)}),
    st.fixed_dictionaries({"required": st.lists(st.sampled_from(FUZZ_NAMES), max_size=2, unique=True)}),
    st.fixed_dictionaries({"pattern": st.sampled_from(["^a", "a$", "1", "^$", "\\S"])}),
    st.builds(lambda k, v: {k: v}, st.sampled_from(["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]),
              _numbers),
    st.builds(lambda k, v: {k: v}, st.sampled_from(
        ["minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"]), st.integers(0, 2)),
)


def _nested(children: Strategy) -> Strategy:
    return st.one_of(
        st.fixed_dictionaries({"properties": st.dictionaries(st.sampled_from(FUZZ_NAMES), children, max_size=2)},
                              optional={"additionalProperties": children}),
        st.fixed_dictionaries({"propertyNames": children}),
        st.fixed_dictionaries({"items": children}),
        st.builds(lambda k, v: {k: v}, st.sampled_from(["anyOf", "oneOf", "allOf"]), st.lists(children, max_size=3)),
        st.fixed_dictionaries({"not": children}),
        st.fixed_dictionaries({"if": children}, optional={"then": children, "else": children}),
        st.fixed_dictionaries({}, optional={"then": children, "else": children}),
        # Two keywords side by side, as most real schemas have them.
        st.builds(lambda a, b: {**a, **b} if isinstance(a, dict) and isinstance(b, dict) else a, children, children),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=st.recursive(_leaves, _nested, max_leaves=8),
       values=st.lists(st.one_of(json_values(FUZZ_NAMES), st.sampled_from([math.nan, [math.nan]])),
                       min_size=1, max_size=8))
def test_random_schemas_agree_with_jsonschema(schema: t.Any, values: list[t.Any]) -> None:
    """Keywords combined in ways the contract does not (yet) combine them."""
    for value in values:
        assert_agrees(schema, value)


@pytest.mark.parametrize(
    "schema",
    [{"minimum": 0}, {"not": {"minimum": 0}}, {"not": {"exclusiveMaximum": 0}},
     {"if": {"maximum": 5}, "then": {"type": "integer"}}, {"items": {"oneOf": [{"minimum": 0}, {"type": "number"}]}}],
)
def test_nan_meets_bounds_as_in_jsonschema(schema: Schema) -> None:
    # Python's json.loads (decode_body) accepts the non-JSON NaN. Every comparison with it is
    # false, and jsonschema errs only when "instance < minimum" holds, so NaN passes a bound.
    # Under not, oneOf or if, a precheck that fails it instead says True to an invalid body.
    assert_agrees(schema, math.nan)
    assert_agrees(schema, [math.nan])


@pytest.mark.parametrize("depth", [5, 25, 120])
def test_deep_schemas_compile_or_step_aside(depth: int) -> None:
    # Generated source has Python's limits (20 nested loops, 100 indentation levels): a deep
    # schema's inner checks move to functions of their own.
    schema: Schema = {"type": "integer"}
    value: t.Any = 1
    for _ in range(depth):
        schema, value = {"type": "array", "items": schema}, [value]
    check = compile_precheck(schema)
    assert check is not None
    assert check(value) is True
    assert_agrees(schema, value)
    assert_agrees(schema, [value, ["x"]])


def test_a_lazy_precheck_compiles_on_its_first_call_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from mockviking.contract import precheck

    schema = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}, "required": ["n"]}
    compiled: list[t.Any] = []
    real = precheck.compile_precheck

    def counting(given: t.Any) -> t.Any:
        compiled.append(given)
        return real(given)

    monkeypatch.setattr(precheck, "compile_precheck", counting)
    check = precheck.lazy_precheck(schema)
    assert compiled == []  # building the app compiles nothing
    assert check({"n": 2}) is True
    assert check({"n": 0}) is False
    assert check({}) is False
    assert compiled == [schema]


@pytest.mark.parametrize("value", [{"a": 1}, [], "x", None])
def test_a_lazy_precheck_of_an_unsupported_schema_always_asks_jsonschema(value: t.Any) -> None:
    from mockviking.contract.precheck import lazy_precheck

    schema = {"type": "object", "unknownKeyword": True}
    assert compile_precheck(schema) is None
    assert lazy_precheck(schema)(value) is False
