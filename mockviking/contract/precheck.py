"""A fast yes/no check compiled from a schema, so that valid requests skip jsonschema.

jsonschema stays the judge: it alone explains a failure, in the words clients see. But
walking a message through it costs more than everything else a request does, and nearly
every request is valid. So each body schema is also compiled, once, into the source of a
plain Python function that answers only "valid": ``True`` means jsonschema would find no
error, and ``False`` means "ask jsonschema". Generated source rather than nested closures:
a message is checked with a few inline tests instead of a dozen function calls, and a
batch holds up to a hundred messages. A schema using any keyword not handled here gets no
check at all (every request goes to jsonschema), so the fast path can never accept what
jsonschema would refuse.
"""

from __future__ import annotations

import re
import typing as t

from mockviking.contract.spec import ANNOTATIONS

Check = t.Callable[[t.Any], bool]

_SCALARS = (str, int, float, bool, type(None))


class Unsupported(Exception):
    """The schema uses a keyword (or a form of one) this module does not compile."""


def _is_integer(value: t.Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: t.Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# -- compiling -----------------------------------------------------------------------------


def compile_precheck(schema: t.Any) -> Check | None:
    """A check for ``schema`` (with no ``$ref`` left), or ``None`` if it cannot be compiled."""
    try:
        return _Generator().build(schema)
    except (Unsupported, SyntaxError, RecursionError):
        # SyntaxError, RecursionError: a schema nested deeper than Python's own limits.
        return None


def lazy_precheck(schema: t.Any) -> Check:
    """:func:`compile_precheck`, done on the first call: most operations of the contract are
    never called in a given test run, and compiling them all took half of ``create_app``.

    Where the schema cannot be compiled, the check answers "ask jsonschema" every time.
    """
    compiled: list[Check] = []

    def check(value: t.Any) -> bool:
        if not compiled:
            compiled.append(compile_precheck(schema) or _ask_jsonschema)
        return compiled[0](value)

    return check


def _ask_jsonschema(value: t.Any) -> bool:
    return False


#: The Python type standing for a JSON type, where one does (integers and numbers need more).
_PLAIN_TYPES: dict[str, str] = {"string": "str", "object": "dict", "array": "list", "boolean": "bool"}
#: Each bound fails only when jsonschema's violation test holds, so a NaN (which Python's
#: json.loads accepts) passes every bound, as it does there: a bound under ``not`` that
#: failed NaN would let an invalid body through.
_BOUNDS: dict[str, tuple[str, str, str]] = {  # keyword: (applies to, measure, violation)
    "minimum": ("_is_number({v})", "{v}", "<"),
    "maximum": ("_is_number({v})", "{v}", ">"),
    "exclusiveMinimum": ("_is_number({v})", "{v}", "<="),
    "exclusiveMaximum": ("_is_number({v})", "{v}", ">="),
    "minLength": ("isinstance({v}, str)", "len({v})", "<"),
    "maxLength": ("isinstance({v}, str)", "len({v})", ">"),
    "minItems": ("isinstance({v}, list)", "len({v})", "<"),
    "maxItems": ("isinstance({v}, list)", "len({v})", ">"),
    "minProperties": ("isinstance({v}, dict)", "len({v})", "<"),
    "maxProperties": ("isinstance({v}, dict)", "len({v})", ">"),
}
_KNOWN = frozenset({
    "type", "const", "enum", "properties", "additionalProperties", "required", "propertyNames", "items",
    "anyOf", "oneOf", "allOf", "not", "if", "pattern", *_BOUNDS,
})
#: Keywords read by another keyword's check (``if`` reads ``then`` and ``else``).
_COMPANIONS = frozenset({"then", "else"})
#: Indentation levels before a node's check moves to a function of its own (Python allows
#: 20 nested loops and 100 levels).
_MAX_DEPTH = 12
#: Above this many declared properties, an object's own keys are walked (when it has fewer).
_INLINE_PROPERTIES = 4


class _Generator:
    """Writes one Python function per schema that needs a yes/no answer of its own.

    A schema node becomes statements that ``return False`` when the value fails it; a
    node that must answer as a whole (an ``anyOf`` branch, a ``not``, an ``if``) becomes
    a function of its own, called by name.
    """

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, t.Any] = {"_is_number": _is_number, "_is_integer": _is_integer, "_MISSING": _MISSING}
        self._count = 0

    def build(self, schema: t.Any) -> Check:
        root = self.function(schema)
        if root is None:
            return _always
        namespace = dict(self.names)
        exec(compile("\n".join(self.lines), "<mockviking precheck>", "exec"), namespace)  # noqa: S102 - our own source
        return t.cast(Check, namespace[root])

    def fresh(self, stem: str) -> str:
        self._count += 1
        return f"{stem}{self._count}"

    def constant(self, value: t.Any) -> str:
        """How the source names ``value``: strings as literals, anything else by a global."""
        if type(value) is str:
            return repr(value)
        name = self.fresh("_c")
        self.names[name] = value
        return name

    def function(self, schema: t.Any) -> str | None:
        """The name of a generated function answering whether a value meets ``schema``, or
        ``None`` when every value does."""
        body = self.statements(schema, "v", 1)
        if not body:
            return None
        name = self.fresh("_check")
        self.lines += [f"def {name}(v):", *body, "    return True", ""]
        return name

    def test(self, schema: t.Any, v: str) -> str:
        """An expression that is true when ``v`` meets ``schema``."""
        name = self.function(schema)
        return "True" if name is None else f"{name}({v})"

    def statements(self, schema: t.Any, v: str, depth: int) -> list[str]:
        """Lines (indented ``depth`` levels) that return False when ``v`` fails ``schema``."""
        pad = "    " * depth
        if schema is True:
            return []
        if schema is False:
            return [f"{pad}return False"]
        if depth > _MAX_DEPTH:  # Python limits nested blocks: go on in a function of its own
            test = self.test(schema, v)
            return [] if test == "True" else [f"{pad}if not {test}: return False"]
        if not isinstance(schema, dict):
            raise Unsupported(f"schema {schema!r}")
        out: list[str] = []
        for keyword, value in schema.items():
            if keyword in ANNOTATIONS or keyword.startswith("x-") or keyword in _COMPANIONS:
                continue
            if keyword not in _KNOWN:
                raise Unsupported(keyword)
            out += self.keyword(keyword, value, schema, v, depth)
        return out

    def keyword(self, keyword: str, value: t.Any, schema: t.Mapping[str, t.Any], v: str, depth: int) -> list[str]:
        pad = "    " * depth
        if keyword == "type":
            return [f"{pad}if not {self.type_test(value, v)}: return False"]
        if keyword == "const":
            return [f"{pad}if not {self.equal(value, v)}: return False"]
        if keyword == "enum":
            if not isinstance(value, list):
                raise Unsupported("enum")
            options = " or ".join(self.equal(option, v) for option in value) or "False"
            return [f"{pad}if not ({options}): return False"]
        if keyword == "required":
            if not value:
                return []
            return [f"{pad}if isinstance({v}, dict) and not {v}.keys() >= {self.constant(frozenset(value))}: "
                    "return False"]
        if keyword == "pattern":
            search = self.constant(re.compile(value).search)
            return [f"{pad}if isinstance({v}, str) and {search}({v}) is None: return False"]
        if keyword in _BOUNDS:
            if not _is_number(value):
                raise Unsupported("a bound that is not a number")
            applies, measure, violated = (part.format(v=v) for part in _BOUNDS[keyword])
            return [f"{pad}if {applies} and {measure} {violated} {self.constant(value)}: return False"]
        if keyword == "properties":
            return self.properties(value, v, depth)
        if keyword == "additionalProperties":
            if "patternProperties" in schema:
                raise Unsupported("additionalProperties beside patternProperties")
            key, item = self.fresh("k"), self.fresh("x")
            inner = self.statements(value, item, depth + 3)
            if not inner:
                return []
            known = self.constant(frozenset(schema.get("properties", {})))
            return [f"{pad}if isinstance({v}, dict):",
                    f"{pad}    for {key}, {item} in {v}.items():",
                    f"{pad}        if {key} not in {known}:", *inner]
        if keyword == "propertyNames":
            key = self.fresh("k")
            inner = self.statements(value, key, depth + 2)
            return [f"{pad}if isinstance({v}, dict):", f"{pad}    for {key} in {v}:", *inner] if inner else []
        if keyword == "items":
            if "prefixItems" in schema:
                raise Unsupported("items beside prefixItems")
            item = self.fresh("x")
            inner = self.statements(value, item, depth + 2)
            return [f"{pad}if isinstance({v}, list):", f"{pad}    for {item} in {v}:", *inner] if inner else []
        if keyword == "anyOf":
            branches = [self.test(branch, v) for branch in value]
            if "True" in branches:
                return []
            return [f"{pad}if not ({' or '.join(branches) or 'False'}): return False"]
        if keyword == "oneOf":
            branches = [self.test(branch, v) for branch in value]
            return [f"{pad}if ({' + '.join(branches) or '0'}) != 1: return False"]
        if keyword == "allOf":
            return [line for branch in value for line in self.statements(branch, v, depth)]
        if keyword == "not":
            return [f"{pad}if {self.test(value, v)}: return False"]
        assert keyword == "if"
        condition = self.test(value, v)
        then = self.statements(schema.get("then", True), v, depth + 1)
        otherwise = self.statements(schema.get("else", True), v, depth + 1)
        if not then and not otherwise:
            return []
        nothing = [f"{pad}    pass"]
        return [f"{pad}if {condition}:", *(then or nothing), f"{pad}else:", *(otherwise or nothing)]

    def properties(self, value: t.Any, v: str, depth: int) -> list[str]:
        if not isinstance(value, dict):
            raise Unsupported("properties")
        pad = "    " * depth
        item = self.fresh("x")
        # Each declared property's check, as lines one level below its test.
        checks = [(name, inner) for name, sub in value.items() if (inner := self.statements(sub, item, depth + 3))]
        if not checks:
            return []
        by_name: list[str] = []  # look each declared property up...
        for name, inner in checks:
            by_name += [f"{pad}    {item} = {v}.get({self.constant(name)}, _MISSING)",
                        f"{pad}    if {item} is not _MISSING:", *_dedent(inner)]
        if len(checks) <= _INLINE_PROPERTIES:
            return [f"{pad}if isinstance({v}, dict):", *by_name]
        # ...or, as a body names few of the many properties a schema declares, walk its keys.
        key = self.fresh("k")
        walk: list[str] = []
        for i, (name, inner) in enumerate(checks):
            walk += [f"{pad}            {'if' if i == 0 else 'elif'} {key} == {self.constant(name)}:", *_indent(inner)]
        return [f"{pad}if isinstance({v}, dict):",
                f"{pad}    if len({v}) <= {len(checks)}:",
                f"{pad}        for {key}, {item} in {v}.items():", *walk,
                f"{pad}    else:", *_indent(by_name)]

    def type_test(self, kinds: t.Any, v: str) -> str:
        names = [kinds] if isinstance(kinds, str) else kinds
        if not isinstance(names, list) or not names or any(n not in _TYPE_NAMES for n in names):
            raise Unsupported(f"type {kinds!r}")
        plain = [_PLAIN_TYPES[n] for n in names if n in _PLAIN_TYPES and n != "boolean"]
        tests = [f"isinstance({v}, ({', '.join(plain)},))"] if plain else []
        tests += [
            {"boolean": f"isinstance({v}, bool)", "null": f"{v} is None",
             "integer": f"_is_integer({v})", "number": f"_is_number({v})"}[n]
            for n in names if n not in _PLAIN_TYPES or n == "boolean"
        ]
        return f"({' or '.join(tests)})"

    def equal(self, expected: t.Any, v: str) -> str:
        """Equality as JSON Schema means it: ``true`` is not ``1``, ``1`` is ``1.0``."""
        if not isinstance(expected, _SCALARS):
            raise Unsupported("const or enum with a container value")
        if isinstance(expected, bool) or expected is None:
            return f"({v} is {expected!r})"
        if isinstance(expected, str):
            return f"(isinstance({v}, str) and {v} == {expected!r})"
        return f"(_is_number({v}) and {v} == {self.constant(expected)})"


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


def _dedent(lines: list[str]) -> list[str]:
    return [line[4:] for line in lines]


def _always(value: t.Any) -> bool:
    return True


_TYPE_NAMES = frozenset({"string", "object", "array", "boolean", "null", "integer", "number"})
_MISSING = object()
