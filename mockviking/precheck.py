"""A fast yes/no check compiled from a schema, so that valid requests skip jsonschema.

jsonschema stays the judge: it alone explains a failure, in the words clients see. But
walking a message through it costs more than everything else a request does, and nearly
every request is valid. So each body schema is also compiled, once, into plain Python
closures that answer only "valid": ``True`` means jsonschema would find no error, and
``False`` means "ask jsonschema". A schema using any keyword not handled here gets no
check at all (every request goes to jsonschema), so the fast path can never accept what
jsonschema would refuse. No Flask here.
"""

from __future__ import annotations

import re
import typing as t

Check = t.Callable[[t.Any], bool]

#: Keywords that never make an instance invalid (Draft 2020-12 without a format checker).
_ANNOTATIONS = frozenset({
    "description", "title", "default", "examples", "example", "deprecated", "format",
    "$comment", "readOnly", "writeOnly", "contentMediaType", "contentEncoding",
})
_SCALARS = (str, int, float, bool, type(None))


class Unsupported(Exception):
    """The schema uses a keyword (or a form of one) this module does not compile."""


def compile_precheck(schema: t.Any) -> Check | None:
    """A check for ``schema`` (with no ``$ref`` left), or ``None`` if it cannot be compiled."""
    try:
        check = _compile(schema)
    except Unsupported:
        return None
    return check if check is not None else _always


def _always(value: t.Any) -> bool:
    return True


def _never(value: t.Any) -> bool:
    return False


# -- types ---------------------------------------------------------------------------------


def _is_integer(value: t.Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: t.Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": _is_integer,
    "number": _is_number,
}


#: JSON types that one Python type (and nothing else) stands for.
_PLAIN_TYPES: dict[str, type] = {"string": str, "object": dict, "array": list, "null": type(None)}


def _type_check(kinds: t.Any) -> Check:
    names = [kinds] if isinstance(kinds, str) else kinds
    if not isinstance(names, list) or not names or any(n not in _TYPES for n in names):
        raise Unsupported(f"type {kinds!r}")
    if len(names) == 1:
        return _TYPES[names[0]]
    if all(n in _PLAIN_TYPES for n in names):  # e.g. ["string", "null"]: one isinstance call
        plain = tuple(_PLAIN_TYPES[n] for n in names)
        return lambda v: isinstance(v, plain)
    checks = tuple(_TYPES[n] for n in names)
    return lambda v: any(c(v) for c in checks)


def _json_equal(expected: t.Any) -> Check:
    """Equality as JSON Schema means it: ``true`` is not ``1``, ``1`` is ``1.0``."""
    if not isinstance(expected, _SCALARS):
        raise Unsupported("const or enum with a container value")
    if isinstance(expected, bool) or expected is None:
        return lambda v: v is expected
    if isinstance(expected, str):
        return lambda v: isinstance(v, str) and v == expected
    return lambda v: _is_number(v) and v == expected


# -- compiling -----------------------------------------------------------------------------


def _compile(schema: t.Any) -> Check | None:
    """A check for one schema node; ``None`` when the node accepts everything."""
    if schema is True:
        return None
    if schema is False:
        return _never
    if not isinstance(schema, dict):
        raise Unsupported(f"schema {schema!r}")
    checks: list[Check] = []
    for keyword, value in schema.items():
        if keyword in _ANNOTATIONS or keyword.startswith("x-") or keyword in _COMPANIONS:
            continue
        build = _KEYWORDS.get(keyword)
        if build is None:
            raise Unsupported(keyword)
        check = build(value, schema)
        if check is not None:
            checks.append(check)
    return _all(checks)


def _all(checks: t.Sequence[Check]) -> Check | None:
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda v: first(v) and second(v)
    frozen = tuple(checks)

    def every(v: t.Any) -> bool:
        for check in frozen:  # noqa: SIM110 - a loop: all() over a generator costs more, on every request
            if not check(v):
                return False
        return True

    return every


def _sub(schema: t.Any) -> Check:
    return _compile(schema) or _always


def _k_type(value: t.Any, schema: t.Mapping[str, t.Any]) -> Check:
    return _type_check(value)


def _k_const(value: t.Any, schema: t.Mapping[str, t.Any]) -> Check:
    return _json_equal(value)


def _k_enum(value: t.Any, schema: t.Mapping[str, t.Any]) -> Check:
    if not isinstance(value, list):
        raise Unsupported("enum")
    options = tuple(_json_equal(v) for v in value)
    return lambda v: any(o(v) for o in options)


def _k_properties(value: t.Any, schema: t.Mapping[str, t.Any]) -> Check | None:
    if not isinstance(value, dict):
        raise Unsupported("properties")
    by_name = {name: compiled for name, sub in value.items() if (compiled := _compile(sub)) is not None}
    if not by_name:
        return None

    def check(v: t.Any) -> bool:
        if not isinstance(v, dict):
            return True
        # Walk whichever is shorter: a body names few of the properties a schema declares.
        if len(v) <= len(by_name):
            for name, item in v.items():
                sub = by_name.get(name)
                if sub is not None and not sub(item):
                    return False
        else:
            for name, sub in by_name.items():
                if name in v and not sub(v[name]):
                    return False
        return True

    return check


def _k_additional(value: t.Any, schema: t.Mapping[str, t.Any]) -> Check | None:
    if "patternProperties" in schema:
        raise Unsupported("additionalProperties beside patternProperties")
    known = frozenset(schema.get("properties", {}))
    extra = _compile(value)
    if extra is None:
        return None

    def check(v: t.Any) -> bool:
        if not isinstance(v, dict):
            return True
        for key, item in v.items():  # noqa: SIM110 - a plain loop is cheaper than all() over a generator
            if key not in known and not extra(item):
                return False
        return True

    return check


def _k_required(value: t.Any, schema: t.Mapping[str, t.Any]) -> Check | None:
    names = frozenset(value)
    if not names:
        return None
    return lambda v: not isinstance(v, dict) or v.keys() >= names


def _k_property_names(value: t.Any, schema: t.Mapping[str, t.Any]) -> Check | None:
    sub = _compile(value)
    if sub is None:
        return None
    return lambda v: not isinstance(v, dict) or all(sub(key) for key in v)


def _k_items(value: t.Any, schema: t.Mapping[str, t.Any]) -> Check | None:
    if "prefixItems" in schema:
        raise Unsupported("items beside prefixItems")
    sub = _compile(value)
    if sub is None:
        return None
    def each(v: t.Any) -> bool:
        if isinstance(v, list):
            for item in v:
                if not sub(item):
                    return False
        return True

    return each


def _k_any_of(value: t.Any, schema: t.Mapping[str, t.Any]) -> Check | None:
    branches = [_compile(b) for b in value]
    if any(b is None for b in branches):
        return None
    frozen = tuple(t.cast(list[Check], branches))

    def some(v: t.Any) -> bool:
        for branch in frozen:  # noqa: SIM110 - a plain loop is cheaper than any() over a generator
            if branch(v):
                return True
        return False

    return some


def _k_one_of(value: t.Any, schema: t.Mapping[str, t.Any]) -> Check:
    frozen = tuple(_sub(b) for b in value)
    return lambda v: sum(1 for b in frozen if b(v)) == 1


def _k_all_of(value: t.Any, schema: t.Mapping[str, t.Any]) -> Check | None:
    return _all([c for b in value if (c := _compile(b)) is not None])


def _k_not(value: t.Any, schema: t.Mapping[str, t.Any]) -> Check:
    sub = _sub(value)
    return lambda v: not sub(v)


def _k_if(value: t.Any, schema: t.Mapping[str, t.Any]) -> Check | None:
    condition = _sub(value)
    then = _compile(schema.get("then", True))
    otherwise = _compile(schema.get("else", True))
    if then is None and otherwise is None:
        return None
    then_check, else_check = then or _always, otherwise or _always
    return lambda v: then_check(v) if condition(v) else else_check(v)


def _k_pattern(value: t.Any, schema: t.Mapping[str, t.Any]) -> Check:
    search = re.compile(value).search
    return lambda v: not isinstance(v, str) or search(v) is not None


def _bound(test: t.Callable[[t.Any, t.Any], bool], sized: t.Callable[[t.Any], bool],
           measure: t.Callable[[t.Any], t.Any]) -> t.Callable[[t.Any, t.Mapping[str, t.Any]], Check]:
    def build(value: t.Any, schema: t.Mapping[str, t.Any]) -> Check:
        if not _is_number(value):
            raise Unsupported("a bound that is not a number")
        return lambda v: not sized(v) or test(measure(v), value)

    return build


def _is_str(v: t.Any) -> bool:
    return isinstance(v, str)


def _is_list(v: t.Any) -> bool:
    return isinstance(v, list)


def _is_dict(v: t.Any) -> bool:
    return isinstance(v, dict)


def _identity(v: t.Any) -> t.Any:
    return v


# Each bound passes unless its violation holds, as jsonschema tests it: a NaN (which Python's
# json.loads accepts) passes every bound there, and must here too, or a bound under ``not``
# would let an invalid body through.
def _ge(a: t.Any, b: t.Any) -> bool:
    return not a < b


def _le(a: t.Any, b: t.Any) -> bool:
    return not a > b


def _gt(a: t.Any, b: t.Any) -> bool:
    return not a <= b


def _lt(a: t.Any, b: t.Any) -> bool:
    return not a >= b


_KEYWORDS: dict[str, t.Callable[[t.Any, t.Mapping[str, t.Any]], Check | None]] = {
    "type": _k_type,
    "const": _k_const,
    "enum": _k_enum,
    "properties": _k_properties,
    "additionalProperties": _k_additional,
    "required": _k_required,
    "propertyNames": _k_property_names,
    "items": _k_items,
    "anyOf": _k_any_of,
    "oneOf": _k_one_of,
    "allOf": _k_all_of,
    "not": _k_not,
    "if": _k_if,
    "pattern": _k_pattern,
    "minimum": _bound(_ge, _is_number, _identity),
    "maximum": _bound(_le, _is_number, _identity),
    "exclusiveMinimum": _bound(_gt, _is_number, _identity),
    "exclusiveMaximum": _bound(_lt, _is_number, _identity),
    "minLength": _bound(_ge, _is_str, len),
    "maxLength": _bound(_le, _is_str, len),
    "minItems": _bound(_ge, _is_list, len),
    "maxItems": _bound(_le, _is_list, len),
    "minProperties": _bound(_ge, _is_dict, len),
    "maxProperties": _bound(_le, _is_dict, len),
}
#: Keywords read by another keyword's check (``if`` reads ``then`` and ``else``).
_COMPANIONS = frozenset({"then", "else"})
