"""Request validation against the contract, reported in the real server's words.

The real server validates with pydantic behind FastAPI, so a client sees pydantic's type
names (``missing``, ``string_type``, ``too_long``...) and messages. We validate with
jsonschema against ``spec/openapi.yaml`` and translate each failure into that vocabulary.
No Flask here: the caller hands in plain values.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import re
import typing as t
from email.message import Message

import jsonschema
import yaml

from mockviking.web.auth import HeaderSource
from mockviking.domain.errors import ApiError, Shape
from mockviking.contract.precheck import Check as Precheck
from mockviking.contract.precheck import lazy_precheck
from mockviking.contract.spec import Contract, DataLoader, Operation, Parameter

_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})
_INT_STRING = re.compile(r"^\s*[+-]?\d+(\.0*)?\s*$")
_FLOAT_STRING = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")

_TYPE_ERRORS: dict[str, tuple[str, str]] = {
    "string": ("string_type", "Input should be a valid string"),
    "integer": ("int_type", "Input should be a valid integer"),
    "number": ("float_type", "Input should be a valid number"),
    "boolean": ("bool_type", "Input should be a valid boolean"),
    "array": ("list_type", "Input should be a valid list"),
}
_MODEL_TYPE = (
    "model_attributes_type",
    "Input should be a valid dictionary or object to extract fields from",
)
_DICT_TYPE = ("dict_type", "Input should be a valid dictionary")


@dataclasses.dataclass(frozen=True)
class FieldError:
    """One validation failure, shaped like an entry of ``details.validation_errors``."""

    loc: tuple[str, ...]
    message: str
    type: str
    #: The offending value, for violation reports; the real server's answer leaves it out.
    value: t.Any = dataclasses.field(default=None, compare=False)

    def as_dict(self) -> dict[str, t.Any]:
        """The JSON form the real server sends."""
        return {"loc": list(self.loc), "message": self.message, "type": self.type}


@dataclasses.dataclass(frozen=True, eq=False)
class ServiceFailure(FieldError):
    """A rule the real server checks after validation, answering its own error instead.

    Declared in the contract with ``x-service-error``; it only counts when nothing else in
    the request is invalid, as the real server reaches its check only then.
    """

    spec: t.Mapping[str, t.Any] = dataclasses.field(default_factory=dict)


def service_error(failures: t.Sequence[ServiceFailure]) -> ApiError:
    """The real server's error for the first failed rule (its failures merged).

    In the rule's ``message`` and ``details``, ``{value}`` stands for the offending value and
    ``{extra}`` for every offending name, sorted (a ``propertyNames`` rule fails once per name).
    """
    first = failures[0]
    group = [f for f in failures if f.spec is first.spec]
    extra = ", ".join(sorted(str(f.value) for f in group))

    def fill(template: t.Any) -> t.Any:
        if template == "{value}":
            return first.value
        if isinstance(template, str):
            return template.replace("{value}", str(first.value)).replace("{extra}", extra)
        if isinstance(template, dict):
            return {key: fill(item) for key, item in template.items()}
        return template

    spec = first.spec
    shape = Shape.ROUTE if spec.get("shape") == "route" else Shape.SERVICE
    details = fill(spec["details"]) if "details" in spec else None
    return ApiError(spec.get("code", "INVALID_ARGUMENT"), fill(spec.get("message", "Invalid value")), details,
                    shape=shape)


class RequestInvalid(ApiError):
    """400 INVALID_ARGUMENT naming the first failure, with all of them in details."""

    def __init__(self, errors: t.Sequence[FieldError]) -> None:
        first = errors[0]
        super().__init__(
            "INVALID_ARGUMENT",
            f"Invalid request parameters: {'.'.join(first.loc)}: {first.message}",
            {"validation_errors": [e.as_dict() for e in errors]},
            shape=Shape.ROUTE,
        )
        self.errors = tuple(errors)
        self.violations = self.errors


def body_parse_error() -> ApiError:
    """A body the JSON parser gave up on for a reason other than syntax."""
    error = ApiError("INVALID_ARGUMENT", "There was an error parsing the body", shape=Shape.ROUTE)
    error.violations = (FieldError(("body",), "There was an error parsing the body", "body_unparseable"),)
    return error


@dataclasses.dataclass(slots=True)
class ValidRequest:
    """The typed parameters and the body of a request that honours the contract."""

    params: dict[str, t.Any]
    body: t.Any


class _Missing:
    """Marks an absent body, which differs from a JSON ``null`` body."""


MISSING: t.Final = _Missing()


class OperationValidator:
    """Validates requests for one operation; built once at start-up."""

    def __init__(self, contract: Contract, operation: Operation) -> None:
        self.operation = operation
        # A plain string parameter (most path and header ones) needs no schema check: what
        # arrives in a URL or a header is a string already.
        self._params: list[tuple[Parameter, jsonschema.protocols.Validator | None, Precheck | None]] = []
        for param in operation.parameters:
            validator = None if _plain_string(param.schema) else contract.validator(param.pointer)
            self._params.append(
                (param, validator, lazy_precheck(validator.schema) if validator is not None else None)
            )
        self._body = (
            contract.validator(operation.body_pointer) if operation.body_pointer else None
        )
        #: Whether any parameter is in the query: if none is, the query string is not parsed.
        self.reads_query = any(p.location == "query" for p in operation.parameters)
        # Valid bodies pass this and skip jsonschema, which then only explains failures.
        self._body_precheck = lazy_precheck(self._body.schema) if self._body is not None else None
        self._coercer = (
            LaxCoercer.for_schema(contract, contract.schema_at(operation.body_pointer))
            if operation.body_pointer
            else None
        )

    def validate(
        self,
        path_params: t.Mapping[str, str],
        query: t.Mapping[str, t.Sequence[str]],
        headers: HeaderSource,
        body: t.Any = MISSING,
    ) -> ValidRequest:
        """Check everything; raise :class:`RequestInvalid` listing what is wrong.

        ``body`` is what :func:`decode_body` made of the request body.
        """
        errors: list[FieldError] = []
        params: dict[str, t.Any] = {}
        for param, validator, precheck in self._params:
            location = param.location
            if location == "path":
                raw = path_params.get(param.name)
            elif location == "query":
                values = query.get(param.name)
                raw = values[-1] if values else None  # like Starlette, the last of repeated values wins
            else:
                raw = headers.get(param.name, "") or None
            if raw is None:
                if param.required:
                    errors.append(FieldError((param.location, param.name), "Field required", "missing"))
                elif "default" in param.schema:
                    params[param.name] = param.schema["default"]
                continue
            if validator is None:  # a plain string: nothing to convert or check
                params[param.name] = raw
                continue
            value, error = coerce_parameter(raw, param.schema, (param.location, param.name))
            if error is not None:
                errors.append(dataclasses.replace(error, value=raw))
                continue
            if precheck is None or not precheck(value):
                errors.extend(translate(validator.iter_errors(value), (param.location, param.name)))
            params[param.name] = value

        payload: t.Any = None
        if self._body is not None:
            if body is MISSING:
                if self.operation.body_required:
                    errors.append(FieldError(("body",), "Field required", "missing"))
                else:
                    payload = {}
            else:
                if self._coercer is not None:
                    body = self._coercer.coerce(body)
                if self._body_precheck is None or not self._body_precheck(body):
                    errors.extend(translate(self._body.iter_errors(body), ("body",)))
                payload = body
        plain = [e for e in errors if not isinstance(e, ServiceFailure)]
        if plain:
            raise RequestInvalid(plain)
        if errors:
            failures = [e for e in errors if isinstance(e, ServiceFailure)]
            refusal = service_error(failures)
            refusal.violations = tuple(failures)
            raise refusal
        return ValidRequest(params, payload)


def _plain_string(schema: t.Mapping[str, t.Any]) -> bool:
    return schema.get("type") == "string" and set(schema) <= {"type", "description", "examples", "example"}


class _NonFinite(ValueError):
    """NaN or Infinity in a JSON body: Python's parser takes them, but JSON has no such
    numbers, and an answer holding one could not be encoded later (a 500)."""


def _refuse_constant(token: str) -> t.NoReturn:
    raise _NonFinite(token)


def _finite_float(token: str) -> float:
    value = float(token)
    if math.isinf(value):  # 1e999 parses as infinity (NaN is a constant, not a float literal)
        raise _NonFinite(token)
    return value


_JSON = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


def decode_body(
    body: bytes, content_type: str | None, *, allow_yaml: bool = False, max_depth: int | None = None
) -> t.Any:
    """The JSON value of a body, ``MISSING`` if there is none, or the raw bytes.

    Only a JSON media type is parsed (and YAML where the operation accepts it); any other
    body stays bytes and later fails the object check, as on the real server. Malformed JSON
    is a validation error at ``body.<pos>``.
    """
    if not body:
        return MISSING
    if allow_yaml and is_yaml_media_type(content_type):
        try:
            return yaml.load(body, Loader=DataLoader)  # noqa: S506 - a safe loader
        except yaml.YAMLError as exc:
            raise ApiError("INVALID_ARGUMENT", f"The body is not valid YAML: {exc}", shape=Shape.ROUTE) from exc
    if not is_json_media_type(content_type):
        return body
    try:
        value = _JSON.decode(body.decode(json.detect_encoding(body), "surrogatepass"))  # json.loads(body)
    except _NonFinite as exc:
        error = ApiError(
            "INVALID_ARGUMENT",
            f"The JSON body holds {exc}: NaN, Infinity and numbers beyond the float range cannot be "
            "stored, as no JSON answer could carry them",
            shape=Shape.ROUTE,
        )
        error.violations = (FieldError(("body",), error.message, "json_invalid"),)
        raise error from exc
    except json.JSONDecodeError as exc:
        raise RequestInvalid(
            [FieldError(("body", str(exc.pos)), "JSON decode error", "json_invalid")]
        ) from exc
    except (UnicodeDecodeError, RecursionError, ValueError) as exc:
        raise body_parse_error() from exc
    # Each level opens with "{" or "[": a body with fewer of them cannot nest too deep.
    if max_depth is not None and body.count(b"{") + body.count(b"[") > max_depth and nesting_exceeds(
        value, max_depth
    ):
        error = ApiError(
            "INVALID_ARGUMENT",
            f"The JSON body is nested deeper than {max_depth} levels, the most mockviking accepts",
            {"max_json_depth": max_depth},
            shape=Shape.ROUTE,
        )
        error.violations = (FieldError(("body",), error.message, "json_too_deep"),)
        raise error
    return value


def nesting_exceeds(value: t.Any, limit: int) -> bool:
    """Whether arrays and objects nest deeper than ``limit`` (checked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: t.Iterable[t.Any] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def is_yaml_media_type(content_type: str | None) -> bool:
    """True for ``application/yaml``, ``application/x-yaml`` and ``text/yaml``."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media in ("application/yaml", "application/x-yaml", "text/yaml")


@functools.lru_cache(maxsize=256)
def is_json_media_type(content_type: str | None) -> bool:
    """True for ``application/json`` and ``application/*+json`` (remembered: a client sends few)."""
    if not content_type:
        return False
    message = Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


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


def translate(
    errors: t.Iterable[jsonschema.ValidationError], prefix: tuple[str, ...]
) -> list[FieldError]:
    """jsonschema failures as pydantic-style field errors, in the order a client expects.

    Rules marked ``x-error-mode: before`` run before the fields, so where one fails it is
    the only error for that object. Other model-level rules (``x-error-message`` on a
    combinator) count only where no field of the object failed, as pydantic runs such
    validators only on valid fields.
    """
    field_errors: list[FieldError] = []
    model_errors: list[FieldError] = []
    before_errors: list[FieldError] = []
    for error in errors:
        at = _loc(prefix, error)
        for item, kind in _translate_one(error, prefix):
            if item.value is None and item.loc == at:
                item = dataclasses.replace(item, value=error.instance)
            {"field": field_errors, "model": model_errors, "before": before_errors}[kind].append(item)

    def covered(item: FieldError, by: t.Sequence[FieldError]) -> bool:
        return any(item.loc[: len(b.loc)] == b.loc for b in by)

    fields = [f for f in field_errors if not covered(f, before_errors)]
    models = [m for m in model_errors if not covered(m, before_errors) and not any(
        f.loc[: len(m.loc)] == m.loc for f in fields
    )]
    # jsonschema reports each missing property separately, and each report names them all.
    unique: list[FieldError] = []
    for item in before_errors + fields + models:
        if isinstance(item, ServiceFailure) or item not in unique:
            unique.append(item)
    return unique


def _loc(prefix: tuple[str, ...], error: jsonschema.ValidationError) -> tuple[str, ...]:
    return prefix + tuple(str(p) for p in error.absolute_path)


_Translated = list[tuple[FieldError, str]]


def _translate_one(error: jsonschema.ValidationError, prefix: tuple[str, ...]) -> _Translated:
    schema = error.schema if isinstance(error.schema, dict) else {}
    loc = _loc(prefix, error)
    keyword = error.validator
    value: t.Any = error.validator_value
    instance: t.Any = error.instance

    if schema.get("x-checked-by") == "handler":
        return []  # the operation's handler checks this rule and answers in the real words
    service = schema.get("x-service-error")
    if isinstance(service, dict):
        return [(_service_failure(loc, service, instance), "field")]
    if schema.get("x-coerce") == "integer" and keyword in ("anyOf", "type"):
        return [(_lax_integer_error(loc, instance, schema), "field")]
    if schema.get("x-coerce") == "boolean" and keyword in ("anyOf", "type"):
        return [(_type_error(loc, "boolean", instance, schema), "field")]
    custom = schema.get("x-error-message")
    if custom and keyword in ("anyOf", "oneOf", "pattern", "not", "allOf"):
        if schema.get("x-error-mode") == "before":
            kind = "before"
        else:
            kind = "model" if keyword in ("anyOf", "oneOf", "allOf") and "properties" in schema else "field"
        return [(FieldError(loc, custom, schema.get("x-error-type", "value_error")), kind)]
    if keyword == "required":
        missing = [name for name in value if isinstance(instance, dict) and name not in instance]
        return [(FieldError(loc + (name,), "Field required", "missing"), "field") for name in missing]
    if keyword == "type":
        return [(_type_error(loc, value, instance, schema), "field")]
    if keyword in ("anyOf", "oneOf"):
        return _translate_union(error, prefix)
    if keyword == "additionalProperties" and isinstance(instance, dict):
        known = schema.get("properties", {})
        extras = [key for key in instance if key not in known]
        return [
            (FieldError(loc + (key,), "Extra inputs are not permitted", "extra_forbidden"), "field")
            for key in extras
        ]
    return [(_keyword_error(loc, str(keyword), value, instance), "field")]


def _service_failure(
    loc: tuple[str, ...], spec: t.Mapping[str, t.Any], instance: t.Any
) -> ServiceFailure:
    return ServiceFailure(loc, str(spec.get("message", "Invalid value")), "service_error", instance, spec)


def _lax_integer_error(loc: tuple[str, ...], instance: t.Any, schema: t.Mapping[str, t.Any]) -> FieldError:
    """A lax integer that failed: not an integer at all, or one outside its bounds or rule."""
    if not isinstance(instance, int) or isinstance(instance, bool):
        return _type_error(loc, "integer", instance, schema)
    custom = schema.get("x-error-message")
    if custom:
        return FieldError(loc, custom, schema.get("x-error-type", "value_error"))
    for branch in schema.get("anyOf", []):
        if isinstance(branch, dict) and branch.get("type") == "integer":
            for keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
                bound = branch.get(keyword)
                failed = bound is not None and (
                    (keyword == "minimum" and instance < bound) or (keyword == "maximum" and instance > bound)
                    or (keyword == "exclusiveMinimum" and instance <= bound)
                    or (keyword == "exclusiveMaximum" and instance >= bound))
                if failed:
                    return _keyword_error(loc, keyword, bound, instance)
    return _type_error(loc, "integer", instance, schema)


def _translate_union(error: jsonschema.ValidationError, prefix: tuple[str, ...]) -> _Translated:
    """``Optional[X]`` reports X's errors; a tagged union reports every branch under its tag."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    branches: list[t.Any] = list(t.cast(t.Iterable[t.Any], error.validator_value))
    context = list(error.context or [])
    loc = _loc(prefix, error)
    tags = schema.get("x-union-tags")
    if isinstance(tags, list) and len(tags) == len(branches):
        out: _Translated = []
        for index, tag in enumerate(tags):
            for sub in context:
                if sub.relative_schema_path and sub.relative_schema_path[0] == index:
                    for item, kind in _translate_one(sub, prefix):
                        tagged = loc + (str(tag),) + item.loc[len(loc):]
                        out.append((dataclasses.replace(item, loc=tagged), kind))
        return out
    non_null = [
        i for i, b in enumerate(branches)
        if not (isinstance(b, dict) and b.get("type") == "null")
    ]
    if len(non_null) == 1:
        chosen = [
            e for e in context
            if e.relative_schema_path and e.relative_schema_path[0] == non_null[0]
        ]
    else:
        best = jsonschema.exceptions.best_match(context) if context else None
        chosen = [best] if best is not None else []
    if not chosen:
        return [(FieldError(loc, "Input does not match any allowed form", "union_tag_invalid"), "field")]
    out = []
    for sub in chosen:
        out.extend(_translate_one(sub, prefix))
    return out


def _type_error(
    loc: tuple[str, ...], expected: t.Any, instance: t.Any, schema: t.Mapping[str, t.Any]
) -> FieldError:
    kinds = [expected] if isinstance(expected, str) else [k for k in expected if k != "null"]
    kind = kinds[0] if kinds else "null"
    if kind == "object":
        # A model (declared properties) and a plain dict are reported differently.
        is_dict = schema.get("x-pydantic-type") == "dict" or "properties" not in schema
        code, message = _DICT_TYPE if is_dict else _MODEL_TYPE
        return FieldError(loc, message, code)
    if kind == "integer":
        if isinstance(instance, float) and not isinstance(instance, bool):
            return FieldError(
                loc, "Input should be a valid integer, got a number with a fractional part", "int_from_float"
            )
        if isinstance(instance, str):
            return FieldError(
                loc, "Input should be a valid integer, unable to parse string as an integer", "int_parsing"
            )
    if kind == "boolean" and isinstance(instance, (str, int, float)) and not isinstance(instance, bool):
        return FieldError(loc, "Input should be a valid boolean, unable to interpret input", "bool_parsing")
    if kind == "null":
        return FieldError(loc, "Input should be None", "none_required")
    code, message = _TYPE_ERRORS.get(kind, ("type_error", f"Input should be a valid {kind}"))
    return FieldError(loc, message, code)


def _keyword_error(loc: tuple[str, ...], keyword: str, value: t.Any, instance: t.Any) -> FieldError:
    size = len(instance) if isinstance(instance, (list, str, dict)) else 0
    if keyword == "maxItems":
        plural = "item" if value == 1 else "items"
        return FieldError(
            loc, f"List should have at most {value} {plural} after validation, not {size}", "too_long"
        )
    if keyword == "minItems":
        plural = "item" if value == 1 else "items"
        return FieldError(
            loc, f"List should have at least {value} {plural} after validation, not {size}", "too_short"
        )
    if keyword == "maxLength":
        plural = "character" if value == 1 else "characters"
        return FieldError(loc, f"String should have at most {value} {plural}", "string_too_long")
    if keyword == "minLength":
        plural = "character" if value == 1 else "characters"
        return FieldError(loc, f"String should have at least {value} {plural}", "string_too_short")
    if keyword == "minimum":
        return FieldError(loc, f"Input should be greater than or equal to {value}", "greater_than_equal")
    if keyword == "maximum":
        return FieldError(loc, f"Input should be less than or equal to {value}", "less_than_equal")
    if keyword == "exclusiveMinimum":
        return FieldError(loc, f"Input should be greater than {value}", "greater_than")
    if keyword == "exclusiveMaximum":
        return FieldError(loc, f"Input should be less than {value}", "less_than")
    if keyword in ("enum", "const"):
        options = [v for v in (value if keyword == "enum" else [value]) if v is not None]
        return FieldError(loc, f"Input should be {_or_list(options)}", "literal_error")
    if keyword == "pattern":
        return FieldError(loc, f"String should match pattern '{value}'", "string_pattern_mismatch")
    return FieldError(loc, f"Value error, {keyword} check failed", "value_error")


def _or_list(options: t.Sequence[t.Any]) -> str:
    quoted = [repr(o) if isinstance(o, str) else json.dumps(o) for o in options]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


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
