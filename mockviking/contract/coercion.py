"""Strings and loose values turned into the contract's types, as pydantic turns them.

Query, path and header values arrive as strings; bodies may hold ``"7"`` where the contract
marks a field ``x-coerce: integer``. Both follow the real server's (pydantic's) lax rules.
"""

from __future__ import annotations

import re
import typing as t

from mockviking.contract.spec import Contract
from mockviking.contract.translation import FieldError

_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})
_INT_STRING = re.compile(r"^\s*[+-]?\d+(\.0*)?\s*$")
_FLOAT_STRING = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")


def coerce_parameter(
    raw: str, schema: t.Mapping[str, t.Any], loc: tuple[str, ...]
) -> tuple[t.Any, FieldError | None]:
    """Turn a query, path or header string into the schema's scalar type, as pydantic would."""
    kind = schema.get("type")
    if kind == "boolean":
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True, None
        if lowered in _FALSE:
            return False, None
        return None, FieldError(
            loc, "Input should be a valid boolean, unable to interpret input", "bool_parsing"
        )
    if kind == "integer":
        if _INT_STRING.match(raw):
            return int(float(raw.strip())) if "." in raw else int(raw.strip()), None
        return None, FieldError(
            loc, "Input should be a valid integer, unable to parse string as an integer", "int_parsing"
        )
    if kind == "number":
        if _FLOAT_STRING.match(raw):
            return float(raw), None
        return None, FieldError(
            loc, "Input should be a valid number, unable to parse string as a number", "float_parsing"
        )
    return raw, None

class LaxCoercer:
    """Converts values as pydantic's lax mode would, where the contract says ``x-coerce``.

    Built once per body schema into closures that visit only the parts of a body whose
    schema mentions ``x-coerce`` somewhere below; a schema without any gets no coercer at
    all, so the common request pays nothing.
    """

    def __init__(self, walk: t.Callable[[t.Any], t.Any]) -> None:
        self._walk = walk

    @classmethod
    def for_schema(cls, contract: Contract, schema: t.Mapping[str, t.Any]) -> LaxCoercer | None:
        """A coercer for ``schema`` (a node of ``contract``), or ``None`` when nothing in it is coerced."""
        walk = _CoercerBuilder(contract).build(schema)
        return cls(walk) if walk is not None else None

    def coerce(self, value: t.Any) -> t.Any:
        """``value`` with lax integers converted (containers are updated in place)."""
        return self._walk(value)


_Walk = t.Callable[[t.Any], t.Any]


class _CoercerBuilder:
    """Compiles a schema's ``x-coerce`` rules into closures, following local ``$ref`` s."""

    def __init__(self, contract: Contract) -> None:
        self._contract = contract
        #: Compiled ``$ref`` targets; a cycle reads its own entry through a cell.
        self._refs: dict[str, list[_Walk | None]] = {}

    def build(self, node: t.Any) -> _Walk | None:
        if not isinstance(node, dict):
            return None
        coerce = node.get("x-coerce")
        if coerce == "integer":
            return _lax_integer
        if coerce == "boolean":
            return _lax_boolean
        steps: list[_Walk] = []
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target = self._ref(ref)
            if target is not None:
                steps.append(target)
        properties = tuple(
            (name, walk) for name, sub in node.get("properties", {}).items()
            if (walk := self.build(sub)) is not None
        )
        if properties:
            steps.append(_properties_walk(properties))
        items = self.build(node["items"]) if "items" in node else None
        if items is not None:
            steps.append(_items_walk(items))
        for key in ("anyOf", "oneOf", "allOf"):
            for branch in node.get(key, []):
                if isinstance(branch, dict) and branch.get("type") != "null":
                    walk = self.build(branch)
                    if walk is not None:
                        steps.append(_unless_none(walk))
        if not steps:
            return None
        if len(steps) == 1:
            return steps[0]
        frozen = tuple(steps)

        def chain(value: t.Any) -> t.Any:
            for step in frozen:
                value = step(value)
            return value

        return chain

    def _ref(self, ref: str) -> _Walk | None:
        known = self._refs.get(ref)
        if known is not None:
            if known[0] is not None:
                return known[0]

            # Being built (a recursive schema): read it when called.
            def later(value: t.Any) -> t.Any:
                walk = known[0]
                return walk(value) if walk is not None else value

            return later
        cell: list[_Walk | None] = [None]
        self._refs[ref] = cell
        cell[0] = self.build(self._contract.schema_at(ref[1:]))
        return cell[0]


def _properties_walk(properties: tuple[tuple[str, _Walk], ...]) -> _Walk:
    def walk(value: t.Any) -> t.Any:
        if isinstance(value, dict):
            for name, sub in properties:
                if name in value:
                    value[name] = sub(value[name])
        return value

    return walk


def _items_walk(items: _Walk) -> _Walk:
    def walk(value: t.Any) -> t.Any:
        if isinstance(value, list):
            for index, item in enumerate(value):
                value[index] = items(item)
        return value

    return walk


def _unless_none(branch: _Walk) -> _Walk:
    return lambda value: value if value is None else branch(value)


def _lax_boolean(value: t.Any) -> t.Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    return value


def _lax_integer(value: t.Any) -> t.Any:
    if isinstance(value, bool) or (isinstance(value, float) and value.is_integer()):
        return int(value)
    if isinstance(value, str) and _INT_STRING.match(value) and "." not in value:
        return int(value.strip())
    return value
